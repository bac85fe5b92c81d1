// Answers for the differential tests: reads {minimatch, patterns, cases}
// as JSON on stdin, where each case is [pattern index, path], and writes
// what minimatch says as JSON on stdout. The options are ignore-walk's.
'use strict'
const fs = require('fs')
const input = JSON.parse(fs.readFileSync(0, 'utf8'))
const { Minimatch } = require(input.minimatch)
const opts = { matchBase: true, dot: true, flipNegate: true, nocase: true }

const describe = part =>
  typeof part === 'string' ? { s: part }
  : typeof part === 'symbol' ? { g: true }
  : { re: part._src, flags: part.flags }

const compiled = input.patterns.map(p => {
  try {
    return new Minimatch(p, opts)
  } catch (e) {
    return e
  }
})
const out = {
  patterns: compiled.map(m => m instanceof Error ? { error: String(m.message) } : {
    negate: m.negate,
    relative: m.globParts.some(part => part.length <= (part.slice(-1)[0] ? 1 : 2)),
    globParts: m.globParts,
    set: m.set.map(s => s.map(describe)),
  }),
  results: input.cases.map(([i, path]) => {
    const m = compiled[i]
    return m instanceof Error ? null : [m.match(path), m.match(path, true)]
  }),
}
process.stdout.write(JSON.stringify(out))

// Answers for TestUnicodeAgainstNode: how this node's JS case-maps, folds
// case in regular expressions, and classifies characters. Reads
// {pairs, strings} as JSON on stdin and writes JSON on stdout.
'use strict'
const fs = require('fs')
const input = JSON.parse(fs.readFileSync(0, 'utf8'))
const hex = c => c.toString(16)
const isSurrogate = c => c >= 0xd800 && c <= 0xdfff

// canon[u]: the case folding of a regexp without the u flag, per the spec.
const canon = []
for (let u = 0; u < 0x10000; u++) {
  const up = String.fromCharCode(u).toUpperCase()
  let c = up.length === 1 ? up.charCodeAt(0) : u
  if (u >= 128 && c < 128) c = u
  canon.push(c)
}

// Pairs to test with the i and iu flags: those sent in, plus each code
// point with its single-character upper and lower case.
const pairs = input.pairs.slice()
for (let c = 0; c < 0x110000; c++) {
  if (isSurrogate(c)) continue
  const s = String.fromCodePoint(c)
  for (const t of [s.toUpperCase(), s.toLowerCase()]) {
    const d = t.codePointAt(0)
    if (t !== s && String.fromCodePoint(d) === t) pairs.push([c, d])
  }
}
const folds = pairs.map(([a, b]) => {
  const u = new RegExp(`^\\u{${hex(a)}}$`, 'iu').test(String.fromCodePoint(b))
  const i = a < 0x10000 && b < 0x10000 ?
    new RegExp(`^\\u${hex(a).padStart(4, '0')}$`, 'i').test(String.fromCharCode(b)) : null
  return [a, b, u, i]
})

const props = {}
for (const p of ['L', 'Nl', 'Nd', 'Zs', 'Cc', 'Z', 'C', 'Ll', 'P', 'Lu', 'Pc']) {
  const re = new RegExp(`\\p{${p}}`, 'u')
  const runs = []
  let run = null
  for (let c = 0; c < 0x110000; c++) {
    if (!re.test(String.fromCodePoint(c))) continue
    if (run && run[1] === c - 1) run[1] = c
    else runs.push(run = [c, c])
  }
  props[p] = runs
}

// lower: every code point whose toLowerCase is not itself.
const lower = {}
for (let c = 0; c < 0x110000; c++) {
  if (isSurrogate(c)) continue
  const s = String.fromCodePoint(c)
  if (s.toLowerCase() !== s) lower[c] = s.toLowerCase()
}

process.stdout.write(JSON.stringify({
  canon, folds, props, lower,
  strings: input.strings.map(s => s.toLowerCase()),
}))

// Lists a tarball the way npm reads it: with the node-tar that npm bundles.
// Usage: node nodetar.js NPM_DIR CHUNK < file.tgz (or an uncompressed .tar)
// CHUNK is how many bytes to hand node-tar per write (0: all at once);
// npm hands it whatever the network or the cache gives.
// Prints {"entries": [{path, type, size, sha256}], "warnings": [...]}.
'use strict'
const path = require('path')
const crypto = require('crypto')
const [npmDir, chunkArg] = process.argv.slice(2)
const tar = require(path.join(npmDir, 'node_modules', 'tar'))

const chunks = []
process.stdin.on('data', c => chunks.push(c))
process.stdin.on('end', () => {
  const data = Buffer.concat(chunks)
  const out = { entries: [], warnings: [] }
  const p = new tar.Parser({
    onwarn: (code, message) => out.warnings.push(code + ': ' + (message && message.message || message)),
    onReadEntry: entry => {
      const h = crypto.createHash('sha256')
      const e = { path: entry.path, type: entry.type, size: entry.size }
      out.entries.push(e)
      entry.on('data', c => h.update(c))
      entry.on('end', () => { e.sha256 = h.digest('hex') })
    },
  })
  p.on('error', er => out.warnings.push('error: ' + er.message))
  p.on('close', () => process.stdout.write(JSON.stringify(out)))
  const n = Number(chunkArg) || data.length || 1
  for (let i = 0; i < data.length; i += n) {
    p.write(data.subarray(i, i + n))
  }
  p.end()
})

// Runs npm's own node-tar the way npm pack does, for the differential tests.
// usage: node nodetar.js <npm dir> pack|headers|strip < request.json
'use strict'
const path = require('path')
const zlib = require('zlib')
const [npmDir, mode] = process.argv.slice(2)
const mod = p => require(path.join(npmDir, 'node_modules', p))
const tar = mod('tar')
const { Header } = mod('tar/dist/commonjs/header.js')
const { Pax } = mod('tar/dist/commonjs/pax.js')
const tarCreateOptions = mod('pacote/lib/util/tar-create-options.js')

const chunks = []
process.stdin.on('data', c => chunks.push(c))
process.stdin.on('end', () => {
  const req = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  if (mode === 'pack') {
    // Exactly pacote's DirFetcher: tar.c(tarCreateOptions(manifest), files).
    const manifest = { name: req.name, _resolved: req.dir }
    if (req.bin) manifest.bin = req.bin
    // As pacote does: pipe into a Minipass, errors forwarded to it.
    // node-tar's queue mishandles some hard links (npm pack fails too):
    // - it ends its gzip stream twice when a deferred link is the last
    //   entry, after the archive is complete; exit 3 with the archive.
    // - it stalls when releasing a deferred link fills its job slots while
    //   the head of its queue waits for one ("Exit handler never called!"
    //   in npm); exit 4.
    const { Minipass } = mod('minipass')
    const stream = new Minipass()
    const out = []
    let failed = null
    let ended = false
    stream.on('data', c => out.push(c))
    process.on('beforeExit', () => {
      if (!ended) {
        console.error('node-tar stalled')
        process.exit(4)
      }
    })
    stream.on('error', e => { failed = failed || e })
    // The second end is an unhandled 'error' on node-tar's zlib stream.
    process.on('uncaughtException', e => { failed = failed || e })
    stream.on('end', () => setTimeout(() => {
      ended = true
      process.stdout.write(zlib.gunzipSync(Buffer.concat(out)))
      if (failed) {
        console.error(String(failed))
        process.exitCode = 3
      }
    }, 20))
    tar.c(tarCreateOptions(manifest), req.files)
      .on('error', e => stream.emit('error', e))
      .pipe(stream)
  } else if (mode === 'headers') {
    // What WriteEntry[HEADER] writes for each already-prefixed entry.
    const mtime = new Date('1985-10-26T08:15:00.000Z')
    const res = req.map(e => {
      const h = new Header({ path: e.path, linkpath: e.linkpath, mode: e.mode, size: e.size, mtime, type: e.type })
      const parts = []
      if (h.encode()) {
        parts.push(new Pax({ mtime, path: e.path, linkpath: e.linkpath, size: h.size }).encode())
      }
      parts.push(h.block)
      return Buffer.concat(parts).toString('base64')
    })
    process.stdout.write(JSON.stringify(res))
  } else if (mode === 'strip') {
    const { stripAbsolutePath } = mod('tar/dist/commonjs/strip-absolute-path.js')
    process.stdout.write(JSON.stringify(req.map(s => stripAbsolutePath(s)[1])))
  } else {
    console.error('unknown mode ' + mode)
    process.exit(2)
  }
})

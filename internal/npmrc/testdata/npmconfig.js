// Loads npm's configuration with npm's own @npmcli/config, the way the npm
// CLI does, and reports what the Go package must agree with: values and
// where they came from, validation errors, the registry picked for
// packages, and the credentials npm-registry-fetch would send to URLs.
//
// usage: node npmconfig.js NPM_ROOT < request.json
// request: {config, argv, cwd, builtin, keys, urls: [{url, pkg}], pkgs,
//           ini: [base64 text], expand: [string], parseURLs: [string], definitions: [key]}
'use strict'
const path = require('node:path')

const npmRoot = process.argv[2]
const req = m => require(path.join(npmRoot, 'node_modules', m))
const Config = req('@npmcli/config')
const { definitions, flatten, nerfDarts, shorthands } = req('@npmcli/config/lib/definitions')
const getAuth = req('npm-registry-fetch/lib/auth.js')
const { pickRegistry } = req('npm-registry-fetch')
const npa = req('npm-package-arg')
const ini = req('ini')

const readStdin = async () => {
  // not readFileSync(0): a large request on a pipe fails with EAGAIN
  const chunks = []
  for await (const chunk of process.stdin) {
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

const main = async () => {
  const input = JSON.parse(await readStdin())
  const out = {}
  if (input.ini) {
    out.ini = input.ini.map(b64 => {
      try {
        // decoded as readFile(file, 'utf8') decodes
        return { value: ini.parse(Buffer.from(b64 || '', 'base64').toString('utf8')) }
      } catch (e) {
        return { error: e.message }
      }
    })
  }
  if (input.expand) {
    const envReplace = req('@npmcli/config/lib/env-replace.js')
    out.expand = input.expand.map(s => envReplace(s, process.env))
  }
  if (input.parseURLs) {
    const url = require('node:url')
    out.parseURLs = input.parseURLs.map(s => {
      const r = {}
      try {
        const legacy = url.parse(s)
        r.legacyHref = legacy.host ? legacy.href : null
      } catch {
        r.legacyThrows = true
      }
      try {
        const w = new URL(s)
        r.host = w.host
        r.pathname = w.pathname
      } catch {
        r.invalid = true
      }
      return r
    })
  }
  if (input.definitions) {
    const td = require(path.join(npmRoot, 'node_modules/@npmcli/config/lib/type-defs.js'))
    const typeName = t => {
      if (t === null) return 'null'
      if (t === false) return 'false'
      if (t === Array) return 'Array'
      for (const [k, v] of Object.entries(td)) {
        if (v.type === t) return k
      }
      return JSON.stringify(t)
    }
    out.definitions = {}
    for (const k of input.definitions) {
      const d = definitions[k]
      out.definitions[k] = d && {
        types: [].concat(d.type).map(typeName),
        default: d.default,
        exclusive: d.exclusive || null,
      }
    }
  }
  if (!input.config) {
    process.stdout.write(JSON.stringify(out))
    return
  }
  const config = new Config({
    // an empty npmPath: no builtin npmrc, as airlock has none
    npmPath: input.builtin,
    definitions,
    flatten,
    nerfDarts,
    shorthands,
    argv: [process.execPath, 'npm', ...input.argv],
    cwd: input.cwd,
    warn: false,
  })
  try {
    await config.load()
  } catch (e) {
    out.loadError = e.message
    process.stdout.write(JSON.stringify(out))
    return
  }
  // what lib/npm.js does after loading
  const configScope = config.get('scope')
  if (configScope && !/^@/.test(configScope)) {
    config.set('scope', `@${configScope}`, config.find('scope'))
  }
  try {
    config.validate()
  } catch (e) {
    if (e.code !== 'ERR_INVALID_AUTH') {
      out.loadError = e.message
      process.stdout.write(JSON.stringify(out))
      return
    }
    out.validateError = { code: e.code, problems: e.problems }
  }
  out.values = {}
  for (const key of input.keys) {
    const where = config.find(key)
    out.values[key] = {
      value: config.get(key),
      where,
      source: where ? config.data.get(where).source : null,
    }
  }
  const flat = config.flat
  out.auth = input.urls.map(({ url, pkg }) => {
    let opts = flat
    if (pkg) {
      const spec = npa.resolve(pkg, '1.0.0')
      opts = { ...flat, spec, registry: pickRegistry(spec, flat) }
    }
    const a = getAuth(url, opts)
    let byURI
    try {
      const c = config.getCredentialsByURI(url)
      byURI = {
        token: c.token || null,
        auth: c.auth || null,
        loggedIn: !!(c.token || c.username || c.certfile && c.keyfile),
      }
    } catch (e) {
      byURI = { error: e.message }
    }
    return { token: a.token, auth: a.auth, regKey: a.regKey, authKey: a.authKey, byURI }
  })
  out.registries = input.pkgs.map(p => pickRegistry(npa.resolve(p, '1.0.0'), flat))
  process.stdout.write(JSON.stringify(out))
}

main().catch(e => {
  process.stderr.write(String(e && e.stack || e))
  process.exit(1)
})

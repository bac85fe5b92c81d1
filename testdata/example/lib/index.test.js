'use strict'
// Tests stay out of the tarball: "files" lists lib/ but .npmignore drops them.
const assert = require('node:assert')
assert.strictEqual(require('./index.js')('world'), 'hello, world')

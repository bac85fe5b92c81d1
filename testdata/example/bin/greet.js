#!/usr/bin/env node
'use strict'
console.log(require('../lib/index.js')(process.argv[2] || 'world'))

#!/usr/bin/env node
// The `bnlab` command. A committed shim (not the build output) so that npm links it into
// node_modules/.bin at install time, before the package is built in a checkout.
require('../dist/cjs/bin.js');

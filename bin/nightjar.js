#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  console.error("nightjar is not built yet: run 'npm run bootstrap' first");
  process.exit(2);
}
require(entry)
  .main(process.argv)
  .catch((err) => {
    // main() turns every failure into a line and an exit code; this is the last resort.
    console.error(`error: unexpected failure in nightjar: ${err && err.message ? err.message : String(err)} — this is a bug in nightjar; please report this line`);
    process.exit(3);
  });

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
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  });

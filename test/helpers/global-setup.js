// Fails fast, with the fix, when the project's tools are not installed.
const { existsSync } = require('node:fs');
const path = require('node:path');

module.exports = async () => {
  const bin = path.join(__dirname, '..', '..', '.venv', 'bin');
  for (const tool of ['temporal', 'temporal-test-server']) {
    if (!existsSync(path.join(bin, tool))) {
      throw new Error(`${tool} is not installed in ${bin}: run 'npm run bootstrap' first`);
    }
  }
};

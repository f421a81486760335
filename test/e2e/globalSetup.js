// Builds the web client bundle the pages load (dist/public), as `npm run build` does.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function globalSetup() {
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'build-client.mjs')], { stdio: 'inherit' });
};

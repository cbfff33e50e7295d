// Copies non-TypeScript assets (the dashboard's static files) next to the compiled code in dist/.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const assets = [['apps/relay/src/dashboard/static', 'dist/apps/relay/src/dashboard/static']];
for (const [from, to] of assets) {
  fs.cpSync(path.join(root, from), path.join(root, to), { recursive: true });
}

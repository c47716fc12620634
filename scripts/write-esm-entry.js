// Writes the ES-module face of each CommonJS entry point (index.mjs next to
// index.js), so that `import { Ring } from 'aioring'` and `require('aioring')`
// share one instance; likewise for 'aioring/testing'.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist', 'lib');
for (const entry of ['index', 'testing/index']) {
  const names = Object.keys(require(path.join(dist, `${entry}.js`))).filter((name) => name !== '__esModule');
  const source =
    "import cjs from './index.js';\n" +
    names.map((name) => `export const ${name} = cjs.${name};`).join('\n') +
    '\nexport default cjs;\n';
  fs.writeFileSync(path.join(dist, `${entry}.mjs`), source);
  fs.writeFileSync(path.join(dist, `${entry}.d.mts`), "export * from './index.js';\n");
}

// Writes the ES-module face of each CommonJS entry point in dist/lib
// ('aioring' and 'aioring/testing'): X.mjs re-exports X.js's names, so
// `import { Ring } from 'aioring'` and `require('aioring')` share one
// instance, and X.d.mts types it as an ES module (the import condition's
// types; X.d.ts types the require condition).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist', 'lib');

for (const entry of ['index', 'testing/index']) {
  const names = Object.keys(require(path.join(dist, `${entry}.js`))).filter((name) => name !== '__esModule');
  const cjs = `./${path.basename(entry)}.js`;
  const source =
    `import cjs from '${cjs}';\n` +
    names.map((name) => `export const ${name} = cjs.${name};`).join('\n') +
    '\nexport default cjs;\n';
  fs.writeFileSync(path.join(dist, `${entry}.mjs`), source);
  fs.writeFileSync(path.join(dist, `${entry}.d.mts`), `export * from '${cjs}';\nimport * as cjs from '${cjs}';\nexport default cjs;\n`);
}

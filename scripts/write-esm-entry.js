// Writes the ES-module face of each CommonJS entry point in dist/lib: X.mjs
// re-exports X.js's names, so `import { Ring } from 'aioring'` and
// `require('aioring')` share one instance, and X.d.mts types it as ES module
// (the import condition's types; X.d.ts types the require condition).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist', 'lib');
const entries = process.argv.length > 2 ? process.argv.slice(2) : ['index'];

for (const entry of entries) {
  const names = Object.keys(require(path.join(dist, `${entry}.js`))).filter((name) => name !== '__esModule');
  const source =
    `import cjs from './${entry}.js';\n` +
    names.map((name) => `export const ${name} = cjs.${name};`).join('\n') +
    '\nexport default cjs;\n';
  fs.writeFileSync(path.join(dist, `${entry}.mjs`), source);
  fs.writeFileSync(
    path.join(dist, `${entry}.d.mts`),
    `export * from './${entry}.js';\nimport * as cjs from './${entry}.js';\nexport default cjs;\n`,
  );
}

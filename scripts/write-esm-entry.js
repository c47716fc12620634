// Writes dist/lib/index.mjs, the ES-module face of the CommonJS build, so that
// `import { Ring } from 'aioring'` and `require('aioring')` share one instance.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist', 'lib');
const names = Object.keys(require(path.join(dist, 'index.js'))).filter((name) => name !== '__esModule');
const source =
  "import cjs from './index.js';\n" +
  names.map((name) => `export const ${name} = cjs.${name};`).join('\n') +
  '\nexport default cjs;\n';
fs.writeFileSync(path.join(dist, 'index.mjs'), source);
fs.writeFileSync(path.join(dist, 'index.d.mts'), "export * from './index.js';\n");

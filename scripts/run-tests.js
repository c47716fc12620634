// The README's test command: makes sure the addon and the TypeScript build are
// current, runs vitest, and ends with the one summary line CI reads.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const report = path.join(root, 'test-results', 'vitest.json');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  return result.status ?? 1;
}

if (!fs.existsSync(path.join(root, 'build', 'Release', 'aioring.node')) && !fs.existsSync(path.join(root, 'prebuilds'))) {
  if (run('npx', ['node-gyp', 'rebuild']) !== 0) process.exit(1);
}
if (run('npm', ['run', '--silent', 'build:ts']) !== 0) process.exit(1);

fs.rmSync(report, { force: true });
const status = run('npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
]);

let passed = 0;
let failed = 0;
let skipped = 0;
if (fs.existsSync(report)) {
  const results = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed = results.numPassedTests;
  failed = results.numFailedTests;
  skipped = results.numPendingTests + results.numTodoTests;
  // A file that fails before its tests run (a broken import, a failed set-up)
  // has no test results of its own; it still counts as a failure.
  for (const file of results.testResults) {
    if (file.status === 'failed' && file.assertionResults.every((test) => test.status !== 'failed')) failed++;
  }
} else {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status !== 0 || failed > 0 ? 1 : 0);

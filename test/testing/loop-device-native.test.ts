// The loop-device helper's own native check (test/native/loop_device_check.cc),
// built without Node and run as root.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { rootSuiteSkipReason } from '../helpers/root';

const root = path.resolve(__dirname, '..', '..');
const skipReason = rootSuiteSkipReason('loop_device_check');
let dir: string | undefined;
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it.skipIf(skipReason !== undefined)('loop_device_check builds with warnings as errors and passes', () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-loop-native-'));
  const binary = path.join(dir, 'loop_device_check');
  const sources = ['test/native/loop_device_check.cc', 'native/loop_device.cc'];
  const build = spawnSync('c++', ['-std=c++17', '-O1', '-Wall', '-Wextra', '-Werror', '-fno-exceptions', '-Inative', ...sources, '-o', binary], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(build.status, build.stderr).toBe(0);
  const run = spawnSync(binary, ['--dir', dir], { encoding: 'utf8', timeout: 30_000 });
  expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  expect(run.stdout).toContain('all loop device checks passed');
}, 60_000);

// The integrity code's own native checks (test/native/integrity_check.cc),
// built without Node and run: every CRC path against a bitwise reference, the
// tuples, the io_uring PI attribute and SQE encoding against the uapi layout,
// and a real io_uring read that carries the attribute to the kernel.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-integrity-native-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('integrity_check builds with warnings as errors and passes', () => {
  const native = path.join(root, 'native');
  const sources = [
    'test/native/integrity_check.cc',
    ...['checksum', 'integrity'].flatMap((sub) => fs.readdirSync(path.join(native, sub)).filter((f) => f.endsWith('.cc')).map((f) => `native/${sub}/${f}`)),
    'native/aio_engine.cc',
    ...['setup', 'register', 'submit', 'reap'].map((part) => `native/uring_${part}.cc`),
    'native/pool_engine.cc',
    'native/probe.cc',
  ];
  const binary = path.join(dir, 'integrity_check');
  const build = spawnSync('c++', ['-std=c++17', '-O1', '-Wall', '-Wextra', '-Werror', '-fno-exceptions', '-Inative', ...sources, '-lpthread', '-o', binary], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(build.status, build.stderr).toBe(0);
  // Once with the CPU's widest carry-less multiply, once held to the 128-bit one.
  for (const env of [{}, { AIORING_CRC_NO_AVX512: '1' }]) {
    const run = spawnSync(binary, ['--dir', dir], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('all integrity checks passed');
  }
}, 120_000);

// The integrity code's own native checks (test/native/integrity_check.cc),
// built without Node and run: every CRC path against a bitwise reference, the
// tuples, the io_uring PI attribute and SQE encoding against the uapi layout,
// and a real io_uring read that carries the attribute to the kernel. Where an
// arm64 cross compiler and qemu-user are installed (CI installs them), the
// same checks are built for arm64 and run there, on the table path.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-integrity-native-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const native = path.join(root, 'native');
const sources = [
  'test/native/integrity_check.cc',
  ...['checksum', 'integrity'].flatMap((sub) => fs.readdirSync(path.join(native, sub)).filter((f) => f.endsWith('.cc')).map((f) => `native/${sub}/${f}`)),
  'native/aio_engine.cc',
  ...['setup', 'register', 'submit', 'reap', 'aio_offload'].map((part) => `native/uring_${part}.cc`),
  'native/pool_engine.cc',
  'native/probe.cc',
];

function build(compiler: string, binary: string): void {
  const result = spawnSync(compiler, ['-std=c++17', '-O1', '-Wall', '-Wextra', '-Werror', '-fno-exceptions', '-Inative', ...sources, '-lpthread', '-o', binary], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
}

function expectPasses(command: string, args: string[], env: Record<string, string> = {}): string {
  const run = spawnSync(command, [...args, '--dir', dir], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  expect(run.stdout).toContain('all integrity checks passed');
  return run.stdout;
}

function installed(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

it('integrity_check builds with warnings as errors and passes', () => {
  const binary = path.join(dir, 'integrity_check');
  build('c++', binary);
  // Once with the CPU's widest carry-less multiply, once held to the 128-bit one.
  expectPasses(binary, []);
  expectPasses(binary, [], { AIORING_CRC_NO_AVX512: '1' });
}, 120_000);

const arm64Tools = ['aarch64-linux-gnu-g++', 'qemu-aarch64'];
const missing = arm64Tools.filter((tool) => !installed(tool));
if (missing.length > 0) console.log(`skipping the arm64 integrity_check: ${missing.join(' and ')} not installed`);

it.skipIf(missing.length > 0)('integrity_check cross-compiles for arm64 and passes there on the portable tables', () => {
  const binary = path.join(dir, 'integrity_check_arm64');
  build('aarch64-linux-gnu-g++', binary);
  const stdout = expectPasses('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', binary]);
  expect(stdout).toContain('hardware path absent');
}, 180_000);

// The library's tarball as npm publishes it: what it holds, publint and
// arethetypeswrong on it, and an install into an empty project with no
// compiler on PATH that runs a verified round trip on every engine. The
// linux-x64 prebuild is (re)built first when it is missing or older than the
// native sources; the arm64 one is built and run under qemu by
// scripts/check-arm64.js (a CI step: it needs the cross toolchain).

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { pack, installWithoutCompiler, root } = require('../scripts/packed-install.js') as {
  pack(dir: string): { tarball: string; size: number; unpackedSize: number; files: string[] };
  installWithoutCompiler(tarball: string, dir: string): { app: string; PATH: string };
  root: string;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { glibcNeeded, prebuildPath } = require('../scripts/prebuild.js') as {
  glibcNeeded(file: string): { version: string; promised: string; withinPromise: boolean };
  prebuildPath(arch: string): string;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-tarball-'));
let packed: ReturnType<typeof pack>;

function bin(name: string): string {
  return path.join(root, 'node_modules', '.bin', name);
}

beforeAll(() => {
  if (process.arch === 'x64') execFileSync(process.execPath, [path.join(root, 'scripts', 'prebuild.js'), '--if-stale', 'x64'], { cwd: root, stdio: 'pipe' });
  packed = pack(dir);
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the tarball', () => {
  it('holds the library, its types and the prebuilds, and no bench', () => {
    const files = packed.files;
    expect(files).toContain('dist/lib/index.js');
    expect(files).toContain('dist/lib/index.mjs');
    expect(files).toContain('dist/lib/index.d.ts');
    expect(files).toContain('dist/lib/index.d.mts');
    expect(files).toContain('dist/lib/testing/index.mjs');
    expect(files).toContain('dist/lib/testing/index.d.mts');
    expect(files).toContain('binding.gyp');
    expect(files).toContain('native/engine.h');
    if (process.arch === 'x64') expect(files).toContain('prebuilds/linux-x64/aioring.glibc.node');
    if (fs.existsSync(path.join(root, 'prebuilds', 'linux-arm64'))) expect(files).toContain('prebuilds/linux-arm64/aioring.glibc.node');
    expect(files.filter((f) => /bench|tools\/|test\/|\.map$|tsconfig|CMakeLists/.test(f))).toEqual([]);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin?: unknown };
    expect(manifest.bin).toBeUndefined();
  });

  it.runIf(process.arch === 'x64')('ships an x64 prebuild that needs no newer glibc than README promises', () => {
    const glibc = glibcNeeded(prebuildPath('x64'));
    expect(glibc.withinPromise, `needs glibc ${glibc.version}, promised ${glibc.promised}`).toBe(true);
  });

  it('passes publint --strict', () => {
    const r = spawnSync(bin('publint'), ['run', packed.tarball, '--strict'], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/All good/);
  });

  it('passes arethetypeswrong for node10, node16 (CJS and ESM) and bundlers', () => {
    const r = spawnSync(bin('attw'), [packed.tarball, '--format', 'json'], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } };
    expect(report.analysis.problems).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(['.', './package.json', './testing']);
  });

  it('installs into an empty project with no compiler on PATH and round-trips data on every engine', () => {
    const { app, PATH } = installWithoutCompiler(packed.tarball, dir);
    const installed = path.join(app, 'node_modules', 'aioring');
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false); // nothing was compiled
    fs.copyFileSync(path.join(root, 'test', 'package', 'round-trip.js'), path.join(app, 'round-trip.js'));
    const r = spawnSync(process.execPath, ['round-trip.js', dir], { cwd: app, env: { PATH }, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { passed: string[]; failed: Record<string, string>; probe: Record<string, { available: boolean }> };
    expect(report.failed).toEqual({});
    const available = Object.keys(report.probe).filter((e) => report.probe[e].available);
    expect(report.passed.sort()).toEqual(available.sort());
    expect(report.passed).toContain('threadpool');
  });
});

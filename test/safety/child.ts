// Runs a fixture script from test/fixtures/ in its own Node process, so that a
// crash, a hang or an abort in native code is seen as an exit status instead of
// taking the test worker down, and so that the script can use node flags
// (--expose-gc) and process-wide events (process.exit, the loop ending).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'vitest';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');
const distIndex = path.join(repoRoot, 'dist', 'lib', 'index.js');

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in milliseconds. */
  ms: number;
  timedOut: boolean;
}

/**
 * The fixtures load the compiled library (dist/lib), as a user would. When a
 * lib/ source is newer than its compiled file, compile first: a test of stale
 * JavaScript would pass or fail for the wrong reason.
 */
export function ensureDistFresh(): void {
  const libDir = path.join(repoRoot, 'lib');
  const stale = fs.readdirSync(libDir, { recursive: true, encoding: 'utf8' }).some((name) => {
    if (!name.endsWith('.ts')) return false;
    const compiled = path.join(repoRoot, 'dist', 'lib', name.replace(/\.ts$/, '.js'));
    return !fs.existsSync(compiled) || fs.statSync(compiled).mtimeMs < fs.statSync(path.join(libDir, name)).mtimeMs;
  });
  if (!stale && fs.existsSync(distIndex)) return;
  const built = spawnSync('npm', ['run', '--silent', 'build:ts'], { cwd: repoRoot, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build:ts failed:\n${built.stdout}\n${built.stderr}`);
}

/**
 * Runs `node [nodeArgs] test/fixtures/<script> [args]`, killing it (SIGKILL)
 * after `timeoutMs`. The child inherits the environment, so a sanitizer run's
 * AIORING_NATIVE_PATH and LD_PRELOAD reach it too.
 */
export function runFixture(
  script: string,
  args: string[],
  options: { nodeArgs?: string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(fixturesDir, script), ...args], {
      cwd: repoRoot,
      // AIORING_LIB may point the fixtures at another build of lib/ (to try a patch)
      env: { AIORING_LIB: distIndex, ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

/** The last line of stdout that parses as JSON: how fixtures report what they measured. */
export function report<T = Record<string, unknown>>(result: ChildResult): T {
  const lines = result.stdout.trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as T;
    } catch {
      // not the report line
    }
  }
  throw new Error(`no JSON report in the child's output\n${explain(result)}`);
}

/** Everything worth seeing when a child did not end as expected. */
export function explain(result: ChildResult): string {
  return [
    `exit code ${result.code}, signal ${result.signal}${result.timedOut ? ' (killed after the timeout)' : ''}, ${result.ms} ms`,
    `--- stdout ---\n${result.stdout.slice(-4000)}`,
    `--- stderr ---\n${result.stderr.slice(-4000)}`,
  ].join('\n');
}

/** Exit code 0, no signal, not killed by the timeout, no crash report, `ok` in its report; returns the report. */
export function expectCleanExit<T = Record<string, unknown>>(result: ChildResult): T {
  const context = explain(result);
  expect(result.timedOut, context).toBe(false);
  expect(result.signal, context).toBeNull();
  expect(result.stderr, context).not.toMatch(/FATAL ERROR|Segmentation|Aborted|AddressSanitizer|runtime error/);
  const parsed = report<T & { ok: boolean }>(result);
  expect(parsed, context).toMatchObject({ ok: true });
  expect(result.code, context).toBe(0);
  return parsed;
}

/**
 * Builds test/fixtures/fork-addon (a test-only addon that can fork() from JS)
 * unless its build is newer than its sources; returns the .node file's path.
 */
export function buildForkAddon(): string {
  const addonDir = path.join(fixturesDir, 'fork-addon');
  const addon = path.join(addonDir, 'build', 'Release', 'fork_addon.node');
  const sources = ['fork_addon.c', 'binding.gyp'].map((name) => fs.statSync(path.join(addonDir, name)).mtimeMs);
  if (fs.existsSync(addon) && fs.statSync(addon).mtimeMs > Math.max(...sources)) return addon;
  const built = spawnSync('npx', ['node-gyp', 'rebuild', '-C', addonDir], { cwd: repoRoot, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building the fork addon failed:\n${built.stdout}\n${built.stderr}`);
  return addon;
}

/** A fresh directory on the temp dir's file system (ext4 here), for O_DIRECT files. */
export function scratchDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `aioring-safety-${tag}-`));
}

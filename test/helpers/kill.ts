// Crash tests: run a fixture that prints a first line once it is set up, and
// kill it with SIGKILL a given time after that line.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fixturesDir, repoRoot } from '../safety/child';

export interface KilledRun {
  /** The complete lines the child printed; a line the kill cut short is left out (it was never finished). */
  lines: string[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs test/fixtures/<script>; SIGKILLs it `killAfterMs` after its first line (or after 15 s regardless). */
export function runUntilKilled(script: string, args: string[], killAfterMs: number): Promise<KilledRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(fixturesDir, script), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (!stdout.includes('\n') && chunk.includes('\n')) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      resolve({ lines: stdout.split('\n').slice(0, -1), signal, stderr });
    });
  });
}

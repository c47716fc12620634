// Decides whether suites that need root (loop devices, sysctls, mounts) run.
// In CI as root they must run, and a failure to set them up is a failure;
// elsewhere without root they skip with one line saying why.
import { execFileSync } from 'node:child_process';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
export const inCI = process.env.CI === 'true';

export function rootSuiteSkipReason(what: string): string | undefined {
  if (isRoot) return undefined;
  const reason = `skipping ${what}: it needs root (running as uid ${process.getuid?.() ?? '?'})`;
  if (inCI) throw new Error(`${reason}, but CI=true requires these suites to run`);
  console.log(reason);
  return reason;
}

export function sh(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

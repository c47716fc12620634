// Decides whether cases that need an optional system tool (mkfs.btrfs,
// mkfs.xfs, fio) run. On a fresh machine without it they skip, each on one
// line naming the package to install; with CI=true (where .ci/run installs
// them) a missing tool is a failure.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { debianPackages } from '../../lib/testing/run';
import { inCI } from './root';

// Root's PATH has the sbin directories; an ordinary user's often does not.
const searchPath = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean);

export function installed(command: string): boolean {
  return searchPath.some((dir) => {
    try {
      const file = path.join(dir, command);
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/** undefined when every command is installed; otherwise prints one line saying which package to install and returns it. */
export function toolSkipReason(what: string, commands: readonly string[]): string | undefined {
  const missing = commands.filter((command) => !installed(command));
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((command) => debianPackages[command] ?? command))];
  const reason = `skipping ${what}: ${missing.join(', ')} not installed (install the ${packages.join(', ')} package${packages.length > 1 ? 's' : ''})`;
  if (inCI) throw new Error(`${reason}, but CI=true requires it to run`);
  console.log(reason);
  return reason;
}

// Runs the system tools the fixtures need (mkfs.*, mount, blockdev), turning
// "not installed" and "failed" into errors that say which package to install
// or what the tool printed.
import { execFileSync } from 'node:child_process';
import { TestkitCodes, testkitError } from './errors';

/** The Debian/Ubuntu package that ships each tool the kit runs. */
export const debianPackages: Record<string, string> = {
  'mkfs.ext4': 'e2fsprogs',
  'mkfs.xfs': 'xfsprogs',
  'mkfs.btrfs': 'btrfs-progs',
  'btrfs-map-logical': 'btrfs-progs',
  filefrag: 'e2fsprogs',
  mount: 'mount',
  umount: 'mount',
  blockdev: 'util-linux',
  sync: 'coreutils',
  fio: 'fio',
};

export function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string; status?: number };
    if (failure.code === 'ENOENT') {
      const pkg = debianPackages[command];
      throw testkitError(TestkitCodes.missingTool, `${command} is not installed${pkg ? `: install the ${pkg} package (apt-get install ${pkg})` : ''}`, {
        errno: -2,
        syscall: 'spawn',
        path: command,
      });
    }
    // The first lines say what went wrong; usage text after them does not.
    const output = (String(failure.stderr ?? '').trim() || failure.message).split('\n').slice(0, 3).join(' / ');
    throw testkitError(TestkitCodes.failed, `${command} ${args.join(' ')} failed (exit status ${failure.status}): ${output}`, { path: command });
  }
}

// Where the block I/O controller lives on this machine. cgroup v2 with the io
// controller is the normal case; hosts that still mount cgroup v1's blkio
// hierarchy ("hybrid" layouts, where the controller cannot be in both) get the
// same limits through blkio.throttle.*.
import * as fs from 'node:fs';
import { TestkitCodes, testkitError } from './errors';

export interface IoController {
  version: 2 | 1;
  /** Mount point of the hierarchy. */
  root: string;
}

interface Mount {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

function mounts(): Mount[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [before, after = ''] = line.split(' - ');
      const fields = before!.split(' ');
      const [fsType = '', , superOptions = ''] = after.split(' ');
      return { mountPoint: fields[4]!.replace(/\\040/g, ' '), fsType, superOptions: superOptions.split(',') };
    });
}

function readWords(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** The hierarchy that can throttle block I/O, or a clear error saying why none can. */
export function findIoController(): IoController {
  const all = mounts();
  const v2 = all.find((mount) => mount.fsType === 'cgroup2');
  if (v2 && readWords(`${v2.mountPoint}/cgroup.controllers`).includes('io')) {
    // The io controller must be handed down from the root for a child to use io.max.
    if (!readWords(`${v2.mountPoint}/cgroup.subtree_control`).includes('io')) {
      fs.writeFileSync(`${v2.mountPoint}/cgroup.subtree_control`, '+io');
    }
    return { version: 2, root: v2.mountPoint };
  }
  const blkio = all.find((mount) => mount.fsType === 'cgroup' && mount.superOptions.includes('blkio'));
  if (blkio && fs.existsSync(`${blkio.mountPoint}/blkio.throttle.read_bps_device`)) return { version: 1, root: blkio.mountPoint };
  const why = v2
    ? `cgroup v2 is mounted at ${v2.mountPoint} but its io controller is not available there`
    : 'no cgroup v2 file system is mounted (mount -t cgroup2 none /sys/fs/cgroup)';
  throw testkitError(
    TestkitCodes.unsupported,
    `throttle needs cgroup v2 with the io controller (io.max), or cgroup v1's blkio throttling: ${why}, and no blkio hierarchy is mounted. ` +
      'The kernel needs CONFIG_BLK_DEV_THROTTLING',
  );
}

/** The cgroup `pid` belongs to in the given hierarchy, as a path under its mount point. */
export function cgroupOf(pid: number, controller: IoController): string {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  for (const line of lines) {
    const [id, controllers, ...rest] = line.split(':');
    const relative = rest.join(':');
    if (controller.version === 2 ? id === '0' && controllers === '' : controllers!.split(',').includes('blkio')) {
      return `${controller.root}${relative === '/' ? '' : relative}`;
    }
  }
  throw testkitError(TestkitCodes.unsupported, `process ${pid} is in no cgroup of ${controller.root}`);
}

/** Moves every process in `from` to `to`; processes that exit meanwhile are skipped. */
export function moveAllProcesses(from: string, to: string): void {
  for (const pid of readWords(`${from}/cgroup.procs`)) {
    try {
      fs.writeFileSync(`${to}/cgroup.procs`, pid);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

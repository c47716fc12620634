// What a kit fixture could leave behind, looked up by the fixture's own
// identity (backing file, mount point, cgroup path), never by global counts:
// other test processes attach and mount at the same time.
import * as fs from 'node:fs';

export { isMountPoint } from '../../lib/testing/mounts';

/** The loop devices (loopN) bound to `backing`, including after it was deleted. */
export function loopDevicesOver(backing: string): string[] {
  return fs.readdirSync('/sys/block').filter((name) => {
    if (!name.startsWith('loop')) return false;
    try {
      const bound = fs.readFileSync(`/sys/block/${name}/loop/backing_file`, 'utf8').trim();
      return bound === backing || bound === `${backing} (deleted)`;
    } catch {
      return false;
    }
  });
}

export function readOnlyFlag(device: string): string {
  return fs.readFileSync(`/sys/block/${device.replace('/dev/', '')}/ro`, 'utf8').trim();
}

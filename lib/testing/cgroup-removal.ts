import * as fs from 'node:fs';
import { moveAllProcesses } from './cgroups';
import { sleepSync } from './sleep';

/** Moves whatever is in `cgroup` to `home` and removes it, waiting out the moment the kernel still counts a leaving task. */
export function removeCgroup(cgroup: string, home: string): void {
  for (let attempt = 1; ; attempt++) {
    moveAllProcesses(cgroup, home);
    try {
      fs.rmdirSync(cgroup);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 50) throw error;
      sleepSync(10);
    }
  }
}

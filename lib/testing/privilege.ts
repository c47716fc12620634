// Loop devices, mounts and cgroups all need CAP_SYS_ADMIN. Checking for it up
// front turns the kernel's bare EPERM/EACCES into a message that says what
// is missing and how to get it.
import * as fs from 'node:fs';
import { TestkitCodes, testkitError } from './errors';

const capSysAdmin = 21n;

function effectiveCapabilities(): bigint {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return line ? BigInt(`0x${line[1]}`) : 0n;
}

/** Throws ERR_AIO_TESTKIT_PRIVILEGE unless this process may attach loop devices, mount and manage cgroups. */
export function requirePrivilege(what: string): void {
  if ((effectiveCapabilities() >> capSysAdmin) & 1n) return;
  const uid = process.getuid?.() ?? -1;
  throw testkitError(
    TestkitCodes.privilege,
    `${what} needs root: attaching loop devices, mounting file systems and creating cgroups take CAP_SYS_ADMIN, ` +
      `and this process (uid ${uid}) does not have it. Run the tests as root (sudo, or a CI job or container running as root ` +
      'with --privileged), or skip these tests when process.getuid() !== 0.',
  );
}

// The kit's own failures. They are AioErrors with codes of their own, so a
// test can tell "this machine cannot run the fixture" from a failure of the
// code under test.
import { AioError } from '../errors';

export const TestkitCodes = {
  /** The process lacks root (CAP_SYS_ADMIN), which loop devices, mounts and cgroups need. */
  privilege: 'ERR_AIO_TESTKIT_PRIVILEGE',
  /** A command the fixture runs (mkfs.*, mount, btrfs-map-logical) is not installed. */
  missingTool: 'ERR_AIO_TESTKIT_MISSING_TOOL',
  /** Every loop device stayed busy for as long as the caller was willing to wait. */
  noLoopDevice: 'ERR_AIO_TESTKIT_NO_LOOP_DEVICE',
  /** The kernel or the fixture cannot do what was asked (no cgroup v2 io controller, corruption on a non-btrfs file system). */
  unsupported: 'ERR_AIO_TESTKIT_UNSUPPORTED',
  /** A command or system call the fixture needs failed; the message carries its output. */
  failed: 'ERR_AIO_TESTKIT_FAILED',
} as const;

export function testkitError(code: string, message: string, details: { errno?: number; syscall?: string; path?: string } = {}): AioError {
  return new AioError(`aioring/testing: ${message}`, { code, ...details });
}

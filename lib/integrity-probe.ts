// probeIntegrity(path): what the kernel says about a device's own protection
// information (FS_IOC_GETLBMD_CAP, 6.17+) and whether io_uring here can hand
// PI to it (IORING_FEAT_RW_ATTR, 6.14+), with the reason whenever not.
import * as fs from 'node:fs';
import { constants } from 'node:os';
import * as util from 'node:util';
import { fromNodeError } from './errors';
import { native } from './native';
import type { FileProtection, IntegrityProbe, ProtectionFormat } from './types';
import { checkString } from './validate';

// LBMD_PI_CAP_* and LBMD_PI_CSUM_* (linux/fs.h), as native/integrity/kernel_pi.h defines them.
const capIntegrity = 1;
const capRefTag = 2;
const guardNames: Record<number, IntegrityProbe['guard']> = { 0: 'none', 1: 'ip', 2: 'crc16-t10dif', 4: 'crc64-nvme' };

const systemErrors = util.getSystemErrorMap();

/** Whether the kernel's block layer has integrity support for this disk: /sys/block/<disk>/integrity. */
function blockIntegrityPresent(rdev: number): boolean {
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | ((Math.floor(rdev / 0x100000) & 0xfff) << 8);
  try {
    let dir = fs.realpathSync(`/sys/dev/block/${major}:${minor}`);
    // A partition's integrity profile is its disk's.
    if (fs.existsSync(`${dir}/partition`)) dir = `${dir}/..`;
    return fs.existsSync(`${dir}/integrity`);
  } catch {
    return false;
  }
}

function refusalReason(errno: number, blockDevice: boolean, kernelIntegrity: boolean): string {
  if (blockDevice && !kernelIntegrity) {
    return 'this kernel has no block-layer integrity (built without CONFIG_BLK_DEV_INTEGRITY: no /sys/block/<disk>/integrity), so it can neither report nor pass protection information';
  }
  if (!blockDevice) return 'not a block device: protection information belongs to block devices (the file system answered the ioctl with ENOTTY)';
  if (errno === constants.errno.ENOTTY) return 'this kernel does not know FS_IOC_GETLBMD_CAP (it arrived in Linux 6.17)';
  if (errno === constants.errno.EOPNOTSUPP) return 'the kernel refused FS_IOC_GETLBMD_CAP as unsupported (EOPNOTSUPP): no block-layer integrity for this device';
  return 'the kernel refused FS_IOC_GETLBMD_CAP';
}

function matchingFormat(guard: IntegrityProbe['guard'], piSize: number, refTagSize: number): ProtectionFormat | undefined {
  if (guard === 'crc16-t10dif' && piSize === 8 && refTagSize === 4) return 't10dif';
  if (guard === 'crc64-nvme' && piSize === 16 && refTagSize === 6) return 'nvme64';
  return undefined;
}

/** The probe of an open descriptor; `blockDevice` and `rdev` from its fstat. */
export function probeDescriptor(fd: number, path: string, blockDevice: boolean, rdev: number): IntegrityProbe {
  const cap = native.queryIntegrity(fd);
  const uring = native.queryUringAttributes();
  const kernelIntegrity = blockDevice ? blockIntegrityPresent(rdev) : false;
  const guard = guardNames[cap.guardTagType] ?? 'unknown';
  const supported = cap.errno === 0 && (cap.flags & capIntegrity) !== 0;
  const format = supported ? matchingFormat(guard, cap.piSize, cap.refTagSize) : undefined;
  let reason: string;
  if (cap.errno !== 0) reason = refusalReason(cap.errno, blockDevice, kernelIntegrity);
  else if (!supported) reason = 'the device carries no protection information (it is not formatted with PI metadata)';
  else if (format === undefined) reason = `the device's protection information (${guard} guard, ${cap.piSize}-byte tuples) matches neither 't10dif' nor 'nvme64'`;
  else reason = `the device stores '${format}' protection information every ${cap.interval} bytes`;
  const refusal = cap.errno === 0 ? {} : { code: systemErrors.get(-cap.errno)?.[0] ?? `E${cap.errno}`, errno: -cap.errno };
  return {
    path,
    blockDevice,
    supported,
    reason,
    ...refusal,
    kernelIntegrity,
    interval: cap.interval,
    metadataSize: cap.size,
    piSize: cap.piSize,
    piOffset: cap.piOffset,
    guard,
    appTagSize: cap.appTagSize,
    refTagSize: cap.refTagSize,
    storageTagSize: cap.storageTagSize,
    refTagChecked: (cap.flags & capRefTag) !== 0,
    format,
    ioUringRwAttributes: uring.rwAttributes,
    ioUringReason: uring.rwAttributes
      ? 'io_uring takes read/write attributes here (IORING_FEAT_RW_ATTR)'
      : uring.errno !== 0
        ? `io_uring could not be set up (${systemErrors.get(-uring.errno)?.[0] ?? uring.errno})`
        : 'io_uring here lacks read/write attributes (IORING_FEAT_RW_ATTR arrived in Linux 6.14)',
  };
}

/**
 * Reports whether the device (or the device under a file) at `path` has
 * protection information the kernel can check, what FS_IOC_GETLBMD_CAP says
 * about it, whether io_uring can pass PI (IORING_FEAT_RW_ATTR), and why not
 * whenever not.
 */
export async function probeIntegrity(path: string): Promise<IntegrityProbe> {
  checkString('path', path);
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(path, fs.constants.O_RDONLY);
  } catch (error) {
    throw fromNodeError(error as NodeJS.ErrnoException, { op: 'open', path });
  }
  try {
    const stat = await handle.stat();
    return probeDescriptor(handle.fd, path, stat.isBlockDevice(), stat.rdev);
  } finally {
    await handle.close();
  }
}

/**
 * Whether the kernel should check a protected file's tuples too: the separate
 * layout on an io_uring ring, over a device whose PI has the same format and
 * interval, with Type 1 reference tags counted from the device's first block.
 */
export function kernelChecksFor(probe: IntegrityProbe, protection: FileProtection, engine: string): boolean {
  return (
    protection.layout === 'separate' &&
    engine === 'io_uring' &&
    probe.ioUringRwAttributes &&
    probe.format === protection.format &&
    probe.interval === protection.interval &&
    probe.metadataSize === probe.piSize &&
    protection.refTagSeed === 0
  );
}

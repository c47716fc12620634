// CRC-16/T10-DIF, CRC-32C and CRC-64/NVME, computed natively with the CPU's
// crc32 and carry-less multiply instructions where it has them.
import { native } from './native';
import { checkBigUint64, checkInteger, checkView } from './validate';

/**
 * CRC-16/T10-DIF (polynomial 0x8BB7, not reflected, initial value 0): the
 * guard of a T10 protection-information tuple. Pass a previous result as
 * `seed` to continue over split data.
 */
export function crc16t10dif(data: ArrayBufferView, seed = 0): number {
  checkView('data', data);
  checkInteger('seed', seed, 0, 0xffff);
  return native.crc16t10dif(data, seed);
}

/**
 * CRC-32C (Castagnoli, as in iSCSI, ext4 and SSE4.2): reflected, initial
 * value and final XOR 0xFFFFFFFF. Pass a previous result as `seed` to
 * continue over split data.
 */
export function crc32c(data: ArrayBufferView, seed = 0): number {
  checkView('data', data);
  checkInteger('seed', seed, 0, 0xffffffff);
  return native.crc32c(data, seed);
}

/**
 * CRC-64/NVME (the NVMe 64-bit guard; reflected polynomial
 * 0x9A6C9329AC4BC9B5, initial value and final XOR all ones), as a bigint.
 * Pass a previous result as `seed` to continue over split data.
 */
export function crc64nvme(data: ArrayBufferView, seed = 0n): bigint {
  checkView('data', data);
  checkBigUint64('seed', seed);
  return native.crc64nvme(data, seed);
}

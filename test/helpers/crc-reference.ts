// Bit-at-a-time CRCs written straight from the polynomials, independent of
// the library's tables and CPU paths: the reference its checksums and on-disk
// tuples are checked against.

export function bitwiseCrc16T10Dif(bytes: Uint8Array, seed = 0): number {
  let crc = seed & 0xffff;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x8bb7) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function bitwiseCrc32C(bytes: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** The 64-bit register is kept as two 32-bit halves: bigint arithmetic per bit is too slow. */
export function bitwiseCrc64Nvme(bytes: Uint8Array, seed = 0n): bigint {
  const polyHigh = 0x9a6c9329;
  const polyLow = 0xac4bc9b5;
  let high = ~Number(seed >> 32n) >>> 0;
  let low = ~Number(seed & 0xffffffffn) >>> 0;
  for (const byte of bytes) {
    low = (low ^ byte) >>> 0;
    for (let bit = 0; bit < 8; bit++) {
      const carry = low & 1;
      low = ((low >>> 1) | ((high & 1) << 31)) >>> 0;
      high >>>= 1;
      if (carry) {
        low = (low ^ polyLow) >>> 0;
        high = (high ^ polyHigh) >>> 0;
      }
    }
  }
  return (BigInt(~high >>> 0) << 32n) | BigInt(~low >>> 0);
}

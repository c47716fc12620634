// Tuples built from the documented layout with the bitwise CRCs, byte by
// byte, so tests check the library's tuples and on-disk trailers against the
// format itself rather than against the library's own code.
import { bitwiseCrc16T10Dif, bitwiseCrc64Nvme } from './crc-reference';

export type Format = 't10dif' | 'nvme64';

export const tupleSize: Record<Format, number> = { t10dif: 8, nvme64: 16 };

export function referenceTuple(format: Format, guarded: Uint8Array, appTag: number, refTag: number): Buffer {
  const tuple = Buffer.alloc(tupleSize[format]);
  if (format === 't10dif') {
    tuple.writeUInt16BE(bitwiseCrc16T10Dif(guarded), 0);
    tuple.writeUInt16BE(appTag, 2);
    tuple.writeUInt32BE(refTag % 2 ** 32, 4);
  } else {
    tuple.writeBigUInt64BE(bitwiseCrc64Nvme(guarded), 0);
    tuple.writeUInt16BE(appTag, 8);
    tuple.writeUIntBE(refTag % 2 ** 48, 10, 6);
  }
  return tuple;
}

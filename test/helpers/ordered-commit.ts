import type { AioError, AioFile, Ring } from '../../lib/index';
import { randomAligned } from './data';

/** What a commit wrote, for reading back: the file's first three blocks are commit, pages[0], pages[1]. */
export interface OrderedCommit {
  results: Array<number | AioError>;
  expected: Buffer;
}

/**
 * A WAL's commit as one ordered batch: two random pages at blocks 1 and 2, an
 * fdatasync, then a random commit record at block 0.
 */
export async function orderedCommit(ring: Ring, file: AioFile): Promise<OrderedCommit> {
  const pages = [randomAligned(4096), randomAligned(4096)];
  const commit = randomAligned(4096);
  const results = await ring.submit(
    [
      { op: 'write', file, buffer: pages[0]!, position: 4096 },
      { op: 'write', file, buffer: pages[1]!, position: 8192 },
      { op: 'fdatasync', file },
      { op: 'write', file, buffer: commit, position: 0 },
    ],
    { ordered: true },
  );
  return { results, expected: Buffer.concat([commit, ...pages]) };
}

/** A write then an fdatasync of the same file, as one ordered batch. */
export function orderedWriteDatasync(ring: Ring, file: AioFile, buffer: Buffer, position: number): Promise<Array<number | AioError>> {
  return ring.submit(
    [
      { op: 'write', file, buffer, position },
      { op: 'fdatasync', file },
    ],
    { ordered: true },
  );
}

// file.scrub(): every interval of a protected file read at full queue depth
// and checked by the ordinary read path, its faults gathered, like `zpool scrub`.
import { allocAligned } from './buffers';
import { AioError, LibraryCodes, invalidArgType, invalidState } from './errors';
import type { FileInfo, FileProtection, IntegrityFault, ScrubOptions, ScrubProgress, ScrubReport } from './types';

/** What scrubbing needs of a file; AioFile has it (file.ts imports this module, so it cannot import file.ts). */
export interface ScrubbedFile {
  readonly path: string;
  readonly info: FileInfo;
  readonly memAlign: number;
  readonly integrity: FileProtection | undefined;
  stat(): Promise<{ size: number | bigint }>;
  read(buffer: ArrayBufferView, position: number): Promise<number>;
}

/** Bytes per read: whole intervals of either size, and few enough that depth of them stay small. */
const chunkBytes = 64 * 1024;

export async function scrubFile(file: ScrubbedFile, depth: number, options: ScrubOptions): Promise<ScrubReport> {
  const protection = file.integrity;
  if (protection === undefined) throw invalidState(`scrub needs a file opened with the integrity option ('${file.path}')`);
  if (protection.layout !== 'trailer') {
    throw invalidState(
      `scrub reads tuples from each interval's trailer; with integrity.layout 'separate' they live where the application ` +
        `keeps them, so check those with verifyProtection ('${file.path}')`,
    );
  }
  const onProgress = options.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw invalidArgType('The "options.onProgress" option must be a function');
  }
  const size = file.info.blockDevice ? file.info.size : Number((await file.stat()).size);
  const totalBytes = size - (size % protection.interval);
  const faults: IntegrityFault[] = [];
  let next = 0;
  let bytesScanned = 0;

  const worker = async (): Promise<void> => {
    const buffer = allocAligned(chunkBytes, Math.max(4096, file.memAlign));
    while (next < totalBytes) {
      const position = next;
      const length = Math.min(chunkBytes, totalBytes - position);
      next += length;
      try {
        await file.read(buffer.subarray(0, length), position);
      } catch (error) {
        if (!(error instanceof AioError) || error.code !== LibraryCodes.integrity) throw error;
        faults.push(...error.faults!);
      }
      bytesScanned += length;
      if (onProgress) {
        const progress: ScrubProgress = { bytesScanned, totalBytes, faults: faults.length };
        onProgress(progress);
      }
    }
  };
  const workers = Math.max(1, Math.min(depth, Math.ceil(totalBytes / chunkBytes)));
  await Promise.all(Array.from({ length: workers }, worker));
  faults.sort((a, b) => a.position - b.position);
  return { bytesScanned, intervals: totalBytes / protection.interval, faults };
}

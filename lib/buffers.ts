import { outOfMemory, outOfRange } from './errors';
import { native } from './native';
import { checkInteger } from './validate';

const pageSize = 4096;

// The memory allocAligned() and ring.registerBuffers() made, by ArrayBuffer,
// so that strictBuffers rings can tell it from memory aligned by chance.
const libraryMemory = new WeakSet<ArrayBufferLike>();

export function markLibraryMemory(buffer: Buffer): void {
  libraryMemory.add(buffer.buffer);
}

/** Whether the view lies in memory from allocAligned() or ring.registerBuffers() (or a subarray of it). */
export function isLibraryMemory(view: ArrayBufferView): boolean {
  return libraryMemory.has(view.buffer);
}

/**
 * Allocates a zero-filled Buffer whose memory starts on `alignment` bytes
 * (a power of two; a page by default), as O_DIRECT needs and Buffer.alloc
 * cannot promise. The memory is freed when the Buffer is garbage-collected.
 */
export function allocAligned(size: number, alignment: number = pageSize): Buffer {
  checkInteger('size', size, 1, 2 ** 32);
  checkInteger('alignment', alignment, 1, 1 << 30);
  if ((alignment & (alignment - 1)) !== 0) {
    throw outOfRange(`The value of "alignment" must be a power of two. Received ${alignment}`);
  }
  return allocLibraryMemory(size, alignment, false);
}

/** Bytes of the huge pages allocHugePageBacked() aligns to (native/huge_pages.h). */
export const hugePageBytes = 2 * 1024 * 1024;

/**
 * Zero-filled memory that starts on a huge page and that the kernel is asked
 * to back with transparent huge pages, so that large transfers in it are
 * physically contiguous; ordinary pages where the kernel cannot. Internal.
 */
export function allocHugePageBacked(size: number): Buffer {
  return allocLibraryMemory(size, hugePageBytes, true);
}

function allocLibraryMemory(size: number, alignment: number, hugePages: boolean): Buffer {
  // posix_memalign wants at least pointer alignment.
  const buffer = native.allocAligned(size, Math.max(alignment, 8), hugePages);
  if (buffer === null) {
    throw outOfMemory(`could not allocate ${size} bytes aligned to ${alignment}`);
  }
  markLibraryMemory(buffer);
  return buffer;
}

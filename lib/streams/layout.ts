// What the streams need to know about a file's direct-I/O rules: the unit
// positions and lengths are rounded to, and the memory alignment of the
// buffers they allocate.
import { allocAligned, allocHugePageBacked, hugePageBytes } from '../buffers';
import { alignUp } from '../align';
import type { StreamedFile } from './streamed-file';

const pageSize = 4096;

export const KiB = 1024;
export const MiB = 1024 * KiB;

export interface BlockLayout {
  /** Positions and lengths of requests are multiples of this (1 for buffered files). */
  readonly unit: number;
  /** Buffers start on this many bytes: a page, or more where the file asks for more. */
  readonly memAlign: number;
}

export function blockLayout(file: StreamedFile): BlockLayout {
  return {
    unit: file.info.direct ? file.info.offsetAlign : 1,
    memAlign: Math.max(pageSize, file.memAlign),
  };
}

export function allocFor(layout: BlockLayout, size: number): Buffer {
  return allocAligned(size, layout.memAlign);
}

// Buffers this large or larger come from huge pages: a 1 MiB transfer in
// ordinary pages is more pieces of memory than a virtio disk takes in one
// request, and the block layer splits it in two.
const hugePageMinimum = 512 * KiB;

/**
 * A stream's I/O buffers. Large ones are cut from blocks of huge pages, each
 * buffer its own part of a block; smaller ones are ordinary aligned memory.
 * A block is freed once every buffer cut from it has been collected.
 */
export class StreamBuffers {
  private block: Buffer | undefined;
  private used = 0;

  constructor(private readonly layout: BlockLayout) {}

  take(size: number): Buffer {
    if (size < hugePageMinimum) return allocFor(this.layout, size);
    if (size >= hugePageBytes) return allocHugePageBacked(size);
    if (this.block === undefined || this.used + size > this.block.length) {
      this.block = allocHugePageBacked(hugePageBytes);
      this.used = 0;
    }
    const buffer = this.block.subarray(this.used, this.used + size);
    this.used = alignUp(this.used + size, this.layout.memAlign);
    return buffer;
  }

  /** Lets go of the block being cut, so that it is freed with the last buffer cut from it. */
  drop(): void {
    this.block = undefined;
  }
}

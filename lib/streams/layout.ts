// What the streams need to know about a file's direct-I/O rules: the unit
// positions and lengths are rounded to, and the memory alignment of the
// buffers they allocate.
import { allocAligned } from '../buffers';
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

// What the streams need of a file. AioFile has all of it; file.ts imports the
// streams to make them, so they name this interface rather than import file.ts.
import type { AioError } from '../errors';
import type { FileInfo, OpName } from '../types';

export interface StreamedFile {
  readonly path: string;
  readonly info: FileInfo;
  readonly memAlign: number;
  readonly closed: boolean;
  closedError(op: OpName): AioError;
  read(buffer: ArrayBufferView, position: number): Promise<number>;
}

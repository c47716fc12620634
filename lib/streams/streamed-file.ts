// What the streams need of a file. AioFile has all of it; file.ts imports the
// streams to make them, so they name this interface rather than import file.ts.
import type { AioError } from '../errors';
import type { FileInfo, IoBuffer, OpName } from '../types';

export interface StreamedFile {
  readonly path: string;
  readonly info: FileInfo;
  readonly memAlign: number;
  readonly closed: boolean;
  readonly writable: boolean;
  closedError(op: OpName): AioError;
  read(buffer: IoBuffer, position: number): Promise<number>;
  write(buffer: IoBuffer, position: number): Promise<number>;
  stat(): Promise<{ size: number }>;
  truncate(length: number): Promise<void>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
}

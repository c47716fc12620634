export { Ring } from './ring';
export { AioFile } from './file';
export { allocAligned } from './buffers';
export { AioError, LibraryCodes } from './errors';
export type { AioErrorDetails, OpName } from './errors';
export { probeEngines } from './engines';
export type { EngineAvailability, EngineChoice } from './engines';
export type { EngineName } from './native-contract';
export type { AllocateOptions, BatchOp, FileInfo, OpenOptions, RingOptions, RingStats, StatOptions, WriteOptions } from './types';

export { Ring } from './ring';
export type { BatchOp } from './ring';
export { AioFile } from './file';
export { allocAligned } from './buffers';
export { AioError, LibraryCodes } from './errors';
export { probeEngines } from './engines';
export type {
  AioErrorDetails,
  AllocateOptions,
  EngineAvailability,
  EngineChoice,
  EngineName,
  FileInfo,
  OpName,
  OpenOptions,
  RingOptions,
  RingStats,
  StatOptions,
  WriteOptions,
} from './types';

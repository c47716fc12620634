export { Ring } from './ring';
export type { BatchOp } from './ring';
export { AioFile } from './file';
export { allocAligned } from './buffers';
export { crc16t10dif, crc32c, crc64nvme } from './checksums';
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

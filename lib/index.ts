export { Ring } from './ring';
export type { BatchOp } from './ring';
export { AioFile } from './file';
export { allocAligned } from './buffers';
export { crc16t10dif, crc32c, crc64nvme } from './checksums';
export { generateProtection, verifyProtection } from './integrity';
export { probeIntegrity } from './integrity-probe';
export { AioError, LibraryCodes } from './errors';
export { probeEngines } from './engines';
export type {
  AioErrorDetails,
  AllocateOptions,
  EngineAvailability,
  EngineChoice,
  EngineName,
  FileInfo,
  FileIntegrityOptions,
  FileProtection,
  IntegrityFault,
  IntegrityFaultKind,
  IntegrityProbe,
  FlushMode,
  IoBuffer,
  LatencyStats,
  LatencySummary,
  LogDurability,
  LogAppendOptions,
  LogOptions,
  LogReadOptions,
  OpName,
  OpenOptions,
  ProtectionFormat,
  ProtectionInterval,
  ProtectionLayout,
  ProtectionOptions,
  ReadOptions,
  ReadStreamOptions,
  RingOptions,
  RingStats,
  ScrubOptions,
  ScrubProgress,
  ScrubReport,
  StatOptions,
  WriteOptions,
  WriteStreamOptions,
} from './types';
export { AioLog } from './log/log';
export type { LogRecord, LogStats } from './log/log';
export type { DiscardedTail, LogRecovery } from './log/recovery';
export { AioReadStream } from './streams/read-stream';
export { AioWriteStream } from './streams/write-stream';

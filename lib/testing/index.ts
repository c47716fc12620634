// aioring/testing: loop devices, file systems and real kernel faults as test
// fixtures. A separate entry point: nothing here loads with 'aioring' itself.
export { createLoopDevice } from './loop-device';
export type { LoopDevice } from './loop-device';
export { flipBytes, setReadOnly } from './faults';
export { createFileSystem } from './file-system';
export type { FileSystem } from './file-system';
export { corruptFileBlock, fillFileSystem } from './file-system-faults';
export type { Filler } from './file-system-faults';
export { throttle } from './throttle';
export type { Throttle } from './throttle';
export { TestkitCodes } from './errors';
export type { FileSystemOptions, FileSystemType, LoopDeviceOptions, SectorSize, ThrottleLimits, ThrottleOptions } from './types';

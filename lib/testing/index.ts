// aioring/testing: loop devices, file systems and real kernel faults as test
// fixtures. A separate entry point: nothing here loads with 'aioring' itself.
export { createLoopDevice } from './loop-device';
export type { LoopDevice, LoopDeviceOptions } from './loop-device';
export { flipBytes, setReadOnly } from './faults';
export { createFileSystem } from './file-system';
export type { FileSystem, FileSystemOptions, FileSystemType } from './file-system';
export { corruptFileBlock, fillFileSystem } from './file-system-faults';
export type { Filler } from './file-system-faults';
export { throttle } from './throttle';
export type { Throttle, ThrottleLimits, ThrottleOptions } from './throttle';
export { TestkitCodes } from './errors';
export type { SectorSize } from './options';

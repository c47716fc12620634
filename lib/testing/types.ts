// The option types of aioring/testing, imported by lib/option-keys.ts too:
// a leaf that imports nothing, so no import cycle runs through it.

/** A logical sector size the kit's loop devices can have. */
export type SectorSize = 512 | 4096;

/** The file systems createFileSystem makes. */
export type FileSystemType = 'ext4' | 'xfs' | 'btrfs' | 'tmpfs';

export interface LoopDeviceOptions {
  /** Size of the device in MiB, 1 to 16384. Optional only when `backing` names an existing file (its size is used). */
  sizeMiB?: number;
  /** Logical sector size: 512 (the default) or 4096. */
  sectorSize?: SectorSize;
  /** The loop driver reads and writes its backing file with O_DIRECT. Default true. */
  directIo?: boolean;
  /**
   * The backing file. An existing file is used as it is and kept on close();
   * a path that does not exist yet is created (sparse, `sizeMiB` long) and
   * removed on close(). Default: a fresh file in a new directory under os.tmpdir().
   */
  backing?: string;
  /** How long to wait for a free loop device when all are in use, in ms. Default 60000. */
  waitMs?: number;
}

export interface FileSystemOptions {
  type: FileSystemType;
  /** Size in MiB, 1 to 16384 (xfs and btrfs refuse devices below roughly 300 and 110 MiB). */
  sizeMiB: number;
  /** The loop device's logical sector size: 512 (the default) or 4096. Not for tmpfs. */
  sectorSize?: SectorSize;
}

export interface ThrottleLimits {
  /** Bytes per second read from the device. */
  readBps?: number;
  /** Bytes per second written to the device. */
  writeBps?: number;
  /** Read requests per second. */
  readIops?: number;
  /** Write requests per second. */
  writeIops?: number;
}

export interface ThrottleOptions {
  /** The process to throttle. Default: this one. Processes it forks while throttled are throttled too. */
  pid?: number;
}

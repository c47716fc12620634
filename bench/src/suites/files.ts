// The files a suite runs on: one per storage (a file in the temporary
// directory for the disk, one on /dev/shm for tmpfs), created on first use
// holding the verification pattern, restamped after a driver wrote its own
// data over them, and removed at the end, on an error or on a signal.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Log } from '../setup/prepare';
import type { Pattern } from '../setup/pattern';
import { createTempTarget, removeTargetSync, stampTarget, storageInfo, TargetError } from '../setup/target';
import { formatBytes } from '../options/sizes';
import type { SuiteFile } from './summary';
import type { Storage } from './suite';

const TMPFS_MAGIC = 0x01021994;
const TMPFS_DIR = '/dev/shm';

export function suiteFilePath(dir: string): string {
  const rand = Math.floor(Math.random() * 0xffffffff).toString(16);
  return path.join(dir, `aioring-bench-suite-${process.pid}-${rand}.dat`);
}

/** Whether dir is on tmpfs (statfs magic), or why it cannot be used. */
function tmpfsProblem(dir: string): string | null {
  try {
    const st = fs.statfsSync(dir);
    return st.type === TMPFS_MAGIC ? null : `${dir} is not tmpfs (statfs type 0x${st.type.toString(16)})`;
  } catch (e) {
    return `${dir} is not usable: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
}

export class SuiteFiles {
  private readonly files = new Map<Storage, SuiteFile>();
  /** Storages whose file a driver wrote its own data over. */
  private readonly overwritten = new Set<Storage>();

  constructor(
    private readonly size: number,
    private readonly pattern: Pattern,
    private readonly log: Log,
  ) {}

  get count(): number {
    return this.files.size;
  }

  list(): SuiteFile[] {
    return [...this.files.values()];
  }

  /** The storage's file, created (holding the pattern) on first use, restamped when a reading run needs the pattern back. */
  async forRun(storage: Storage, reads: boolean): Promise<SuiteFile> {
    const file = this.files.get(storage) ?? (await this.create(storage));
    if (reads && this.overwritten.has(storage)) {
      this.log(`restoring the verification pattern over ${file.path} (a driver wrote its own data)`);
      await stampTarget(file.path, file.size, this.pattern);
      this.overwritten.delete(storage);
    }
    return file;
  }

  markOverwritten(storage: Storage): void {
    this.overwritten.add(storage);
  }

  removeAll = (): void => {
    for (const f of this.files.values()) removeTargetSync(f.path);
  };

  private async create(storage: Storage): Promise<SuiteFile> {
    const dir = storage === 'disk' ? os.tmpdir() : TMPFS_DIR;
    if (storage === 'tmpfs') {
      const problem = tmpfsProblem(dir);
      if (problem) throw new TargetError(problem);
    }
    const file = suiteFilePath(dir);
    const info: SuiteFile = { storage, path: file, size: this.size, filesystem: null, device: null };
    this.files.set(storage, info); // before creating it, so an interruption removes a half-written file
    this.log(`creating ${formatBytes(this.size)} ${storage} file ${file} (verification pattern)`);
    const t0 = Date.now();
    await createTempTarget(file, this.size, this.pattern);
    const st = storageInfo(file, 'file');
    info.filesystem = st.filesystem;
    info.device = st.device;
    this.log(`  created in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return info;
  }
}

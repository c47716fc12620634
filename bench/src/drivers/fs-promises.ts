// fs.promises drivers: FileHandle.read/write at the same concurrency as the
// aioring drivers, O_DIRECT with page-aligned buffers unless buffered.
// UV_THREADPOOL_SIZE is set (or left alone) by the parent in this child's env.

import * as fs from 'node:fs';
import { rwWrites } from '../types';
import { runPerOpWorkers, type WorkerContext } from '../trial/workload';
import type { Driver, DriverRunResult, TrialContext } from './driver';

/**
 * fs.promises FileHandle.read/write. uvThreads: libuv's pool size for the
 * trial (a number, 'qd' for one thread per op in flight, or null for
 * libuv's default).
 */
export class FsPromisesDriver implements Driver {
  readonly family = 'fs-promises';
  readonly measures = 'recorder';
  readonly writesPattern = true;
  readonly appends = false;
  readonly groups: readonly string[] = [];

  constructor(
    readonly id: string,
    readonly uvThreads: number | 'qd' | null,
    readonly buffered: boolean,
    readonly description: string,
  ) {}

  label(qd: number): string {
    return this.uvThreads === 'qd' ? `fs-promises-uv${Math.min(qd, 1024)}` : this.id;
  }

  specFields(qd: number): { uvThreads?: number } {
    if (this.uvThreads === null) return {};
    return { uvThreads: this.uvThreads === 'qd' ? Math.min(qd, 1024) : this.uvThreads };
  }

  unavailableReason(): string | null {
    return null;
  }

  run(ctx: TrialContext): Promise<DriverRunResult> {
    return runFsPromisesTrial(ctx, ctx.spec.direct);
  }
}

async function runFsPromisesTrial(ctx: WorkerContext, direct: boolean): Promise<DriverRunResult> {
  const { spec } = ctx;
  const { O_RDONLY, O_RDWR, O_DIRECT } = fs.constants;
  const flags = (rwWrites(spec.rw) ? O_RDWR : O_RDONLY) | (direct ? O_DIRECT : 0);
  const handle = await fs.promises.open(spec.path, flags);
  try {
    await runPerOpWorkers(ctx, {
      read: async (buf, position) => (await handle.read(buf, 0, buf.length, position)).bytesRead,
      write: async (buf, position) => (await handle.write(buf, 0, buf.length, position)).bytesWritten,
    });
  } finally {
    await handle.close();
  }
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return { notes: [], extra: { uvThreads: pool, direct: direct ? 1 : 0 } };
}

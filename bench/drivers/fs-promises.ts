// fs.promises drivers: FileHandle.read/write at the same concurrency as the
// aioring drivers, O_DIRECT with page-aligned buffers unless buffered.
// UV_THREADPOOL_SIZE is set (or left alone) by the parent in this child's env.

import * as fs from 'node:fs';
import { rwWrites } from '../types';
import { runPerOpWorkers, type WorkerContext } from '../workload';
import type { DriverOutcome } from './aioring';

export async function runFsPromisesTrial(ctx: WorkerContext, direct: boolean): Promise<DriverOutcome> {
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

// fs-promises-append: the append workload as a program without a group
// commit writes it: each record written (through the page cache, at the next
// offset) and then made durable with its own datasync.

import * as fs from 'node:fs';
import { runAppenders } from '../trial/append';
import type { Driver, DriverRunResult, TrialContext } from './driver';

export class FsPromisesAppendDriver implements Driver {
  readonly id = 'fs-promises-append';
  readonly family = 'fs-promises';
  readonly description = 'append: fs.promises FileHandle.write of each record at the next offset, then datasync()';
  readonly groups: readonly string[] = ['append'];
  readonly measures = 'recorder';
  readonly writesPattern = false;
  readonly buffered = true;
  readonly appends = true;

  label(): string {
    return this.id;
  }

  specFields(): Record<string, never> {
    return {};
  }

  unavailableReason(): string | null {
    return null;
  }

  async run(ctx: TrialContext): Promise<DriverRunResult> {
    const { spec } = ctx;
    const handle = await fs.promises.open(spec.path, fs.constants.O_WRONLY);
    let offset = 0;
    try {
      await runAppenders(ctx, async (record) => {
        const at = offset;
        offset = offset + record.length > spec.region ? 0 : offset + record.length;
        await handle.write(record, 0, record.length, at);
        await handle.datasync();
      });
    } finally {
      await handle.close();
    }
    return { notes: [], extra: { uvThreads: Number(process.env.UV_THREADPOOL_SIZE) || 4 } };
  }
}

// aioring-log: ring.openLog's group commit under the append workload. The log
// is a file of its own beside the target, made (and its first preallocation
// chunk written) before the measured window, and removed afterwards.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAioring } from '../setup/aioring-lib';
import { runAppenders } from '../trial/append';
import type { TrialSpec } from '../types';
import type { Driver, DriverRunResult, HostFacts, TrialContext } from './driver';

export class AioringLogDriver implements Driver {
  readonly id = 'aioring-log';
  readonly family = 'aioring';
  readonly description = 'append: ring.openLog() (engine auto), each appender awaiting log.append() of one record';
  readonly groups: readonly string[] = ['append'];
  readonly measures = 'recorder';
  readonly writesPattern = true;
  readonly buffered = false;
  readonly appends = true;

  label(): string {
    return this.id;
  }

  specFields(): Pick<TrialSpec, 'engine'> {
    return {};
  }

  unavailableReason({ library }: HostFacts): string | null {
    return library.probe ? null : (library.error ?? 'aioring library not loadable');
  }

  async run(ctx: TrialContext): Promise<DriverRunResult> {
    const { spec } = ctx;
    if (fs.statSync(spec.path).isBlockDevice()) throw new Error(`${spec.label}: the log is a file beside the target; give a file target, not a block device`);
    const mod = loadAioring();
    const file = path.join(path.dirname(spec.path), `.aioring-bench-log-${process.pid}`);
    const ring = new mod.Ring();
    try {
      const log = await ring.openLog(file, { create: true, direct: spec.direct });
      await log.append(Buffer.alloc(spec.bs));
      const before = log.stats();
      await runAppenders(ctx, (record) => log.append(record));
      const after = log.stats();
      await log.close();
      const groups = after.groups - before.groups;
      return {
        notes: [],
        extra: { engine: ring.engine, groups, recordsPerGroup: Number(((after.records - before.records) / Math.max(1, groups)).toFixed(1)) },
      };
    } finally {
      await ring.close();
      await fs.promises.rm(file, { force: true });
    }
  }
}

// fio-append: the reference for the append workload, whatever --appenders and
// --record-size say: fio's durable 4 KiB writes at QD 1 (sequential writes,
// each followed by fdatasync), psync, O_DIRECT unless --buffered.

import type { TrialSpec } from '../types';
import type { Driver, DriverRunResult, HostFacts, TrialContext } from './driver';
import { fioArgs, runFioTrial, stopFio } from './fio';

const referenceBlock = 4096;

export class FioAppendDriver implements Driver {
  readonly id = 'fio-append';
  readonly family = 'fio';
  readonly description = 'append: fio --rw=write --bs=4k --fdatasync=1, psync, QD 1 (the reference, whatever the record size)';
  readonly groups: readonly string[] = ['append'];
  readonly measures = 'self';
  readonly writesPattern = false;
  readonly buffered = false;
  readonly appends = true;

  label(): string {
    return this.id;
  }

  specFields(): Pick<TrialSpec, 'fioEngine'> {
    return { fioEngine: 'psync' };
  }

  unavailableReason({ fio }: HostFacts): string | null {
    return fio ? null : 'fio is not installed';
  }

  async run(ctx: TrialContext): Promise<DriverRunResult> {
    const reference: TrialSpec = { ...ctx.spec, rw: 'write', bs: referenceBlock, qd: 1, fioEngine: 'psync' };
    // Reported per direction, not unified: fio leaves the syncs' latency out of the unified section.
    const args = fioArgs(reference).filter((arg) => !arg.startsWith('--unified_rw_reporting'));
    const metrics = await runFioTrial(reference, (phase) => ctx.setPhase(phase), [...args, '--fdatasync=1']);
    return { notes: [], extra: { fdatasync: 1, bs: referenceBlock }, metrics };
  }

  stop(): void {
    stopFio();
  }
}

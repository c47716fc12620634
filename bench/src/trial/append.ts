// The --rw append workload shared by the JavaScript append drivers: spec.qd
// appenders, each making one durable record of spec.bs bytes, awaiting it,
// then making the next, until the recorder's window closes. A record's
// latency is from the call to its acknowledgement as durable.

import { performance } from 'node:perf_hooks';
import type { WorkerContext } from './workload';

/** Makes one record durable; resolves once it is. */
export type AppendOne = (record: Buffer) => Promise<unknown>;

export async function runAppenders(ctx: WorkerContext, appendOne: AppendOne): Promise<void> {
  const { spec, recorder } = ctx;
  let firstError: unknown = null;
  const appender = async (id: number): Promise<void> => {
    const record = Buffer.alloc(spec.bs, id & 0xff);
    // One clock read per record: the moment a record is acknowledged is the
    // next one's start, so a latency also covers the few statements between
    // the two appends (tens of nanoseconds) and is never understated.
    let t0 = performance.now();
    for (let seq = 0; !recorder.stopped; seq++) {
      if (record.length >= 8) record.writeUInt32LE(seq, 4);
      await appendOne(record);
      const t1 = performance.now();
      recorder.record(t0, t1, spec.bs, false);
      t0 = t1;
    }
  };
  recorder.start();
  await Promise.all(
    Array.from({ length: spec.qd }, (_, id) =>
      appender(id).catch((e: unknown) => {
        firstError ??= e;
        recorder.stop();
      }),
    ),
  );
  recorder.stop();
  if (firstError !== null) throw firstError;
}

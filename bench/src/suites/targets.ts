// The suites the bench knows by name: their runs and the bars their checks hold.

import { FIO_REFERENCE, type Bar, type Metric, type RatioCheck, type Suite } from './suite';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const FIO = FIO_REFERENCE;

function ratio(what: string, subject: RatioCheck['subject'], reference: string, metric: Metric, op: Bar['op'], value: number): RatioCheck {
  return { kind: 'ratio', what, subject, reference, metric, bar: { op, value } };
}

/**
 * The `targets` suite. Reading runs on the disk file come before writing
 * runs, so fio's writes (which do not carry the verification pattern) never
 * precede a verified read; files.ts restamps the file if an --only
 * selection ever puts them the other way round.
 */
export const TARGETS_SUITE: Suite = {
  name: 'targets',
  description: "aioring's performance targets against fio (libaio) and fs.promises",
  fileSize: 1 * GiB,
  memoryOps: 5_000_000,
  memoryWarmupOps: 200_000,
  runs: [
    { id: 'randread-qd32-disk', storage: 'disk', rw: 'randread', bs: 4 * KiB, qd: 32, perOp: true, batch: false, others: ['fs-promises', 'fs-promises-uv32', FIO] },
    { id: 'randread-qd1-latency', storage: 'disk', rw: 'randread', bs: 4 * KiB, qd: 1, perOp: true, batch: false, others: [FIO] },
    { id: 'randread-qd128', storage: 'disk', rw: 'randread', bs: 4 * KiB, qd: 128, perOp: true, batch: false, others: [FIO] },
    { id: 'seqread-1m-qd8', storage: 'disk', rw: 'read', bs: 1 * MiB, qd: 8, perOp: true, batch: false, others: [FIO] },
    { id: 'randwrite-qd32', storage: 'disk', rw: 'randwrite', bs: 4 * KiB, qd: 32, perOp: true, batch: false, others: [FIO] },
    { id: 'seqwrite-1m-qd8', storage: 'disk', rw: 'write', bs: 1 * MiB, qd: 8, perOp: true, batch: false, others: [FIO] },
    { id: 'randread-qd32-tmpfs', storage: 'tmpfs', rw: 'randread', bs: 4 * KiB, qd: 32, perOp: true, batch: true, others: [FIO] },
    { id: 'memory', storage: 'tmpfs', rw: 'randread', bs: 4 * KiB, qd: 32, perOp: true, batch: false, others: [], memory: true },
  ],
  targets: [
    {
      name: 'randread-qd32-disk',
      run: 'randread-qd32-disk',
      workload: '4 KiB random read, O_DIRECT, QD 32, 1 GiB file on the disk (os.tmpdir())',
      checks: [
        ratio(`IOPS vs ${FIO}`, 'per-op', FIO, 'iops', '>=', 0.95),
        ratio('IOPS vs fs-promises', 'per-op', 'fs-promises', 'iops', '>=', 3.5),
      ],
    },
    {
      name: 'randread-qd1-latency',
      run: 'randread-qd1-latency',
      workload: '4 KiB random read, O_DIRECT, QD 1, disk file',
      checks: [ratio(`p50 latency vs ${FIO}`, 'per-op', FIO, 'p50', '<=', 1.05)],
    },
    {
      name: 'randread-qd128',
      run: 'randread-qd128',
      workload: '4 KiB random read, O_DIRECT, QD 128, disk file',
      checks: [ratio(`IOPS vs ${FIO}`, 'per-op', FIO, 'iops', '>=', 0.95)],
    },
    {
      name: 'randwrite-qd32',
      run: 'randwrite-qd32',
      workload: '4 KiB random write, O_DIRECT, QD 32, disk file',
      checks: [ratio(`IOPS vs ${FIO}`, 'per-op', FIO, 'iops', '>=', 0.95)],
    },
    {
      name: 'seqread-1m-qd8',
      run: 'seqread-1m-qd8',
      workload: '1 MiB sequential read, O_DIRECT, QD 8, disk file',
      checks: [ratio(`MiB/s vs ${FIO}`, 'per-op', FIO, 'mibps', '>=', 0.95)],
    },
    {
      name: 'seqwrite-1m-qd8',
      run: 'seqwrite-1m-qd8',
      workload: '1 MiB sequential write, O_DIRECT, QD 8, disk file',
      checks: [ratio(`MiB/s vs ${FIO}`, 'per-op', FIO, 'mibps', '>=', 0.95)],
    },
    {
      name: 'randread-qd32-tmpfs',
      run: 'randread-qd32-tmpfs',
      workload: '4 KiB random read, O_DIRECT, QD 32, 1 GiB file on tmpfs (/dev/shm: CPU-bound)',
      checks: [
        ratio(`IOPS vs ${FIO} (per-op promises)`, 'per-op', FIO, 'iops', '>=', 0.75),
        ratio(`IOPS vs ${FIO} (batch API)`, 'batch', FIO, 'iops', '>=', 0.9),
      ],
    },
    {
      name: 'cpu-per-io',
      run: 'randread-qd32-disk',
      workload: 'the randread-qd32-disk trials: IOPS per CPU-second (user + system)',
      checks: [ratio(`IOPS/CPU-s vs ${FIO}`, 'per-op', FIO, 'iopsPerCpuS', '>=', 0.8)],
    },
    {
      name: 'memory',
      run: 'memory',
      workload: '5M 4 KiB random reads after a 200k-op warm-up, tmpfs file, QD 32, per-op promises',
      checks: [{ kind: 'memory', what: 'RSS growth, warm-up end -> end', bar: { op: '<=', value: 16 } }],
    },
  ],
};

export const SUITES: Record<string, Suite> = { targets: TARGETS_SUITE };

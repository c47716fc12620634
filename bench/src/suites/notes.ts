// The notes under a suite's summary: how each side was measured, so a reader
// can judge whether a ratio compares like with like.

import type { BenchOptions } from '../options/args';
import { compactNumber } from '../report/format';
import type { PointResult } from '../report/results';
import type { CheckResult } from './evaluate';

export function notesFor(results: CheckResult[], points: ReadonlyMap<string, PointResult | null>, options: BenchOptions, memoryOps: number, warmupOps: number): string[] {
  const notes: string[] = [];
  if (options.repeat < 3) notes.push(`only ${options.repeat} round(s) per run: fewer than the 3 a target measurement needs`);
  notes.push('fio-libaio is the fio reference for every check (fio does not verify data; aioring and fs.promises check every ' +
    `${options.verifyEvery > 0 ? `${options.verifyEvery}th read` : 'read: off (--no-verify)'})`);
  const qd1 = points.get('randread-qd1-latency');
  if (qd1) {
    const fio = qd1.results.find((r) => r.driver === 'fio-libaio' && r.metrics);
    const src = fio?.metrics?.extra?.latPercentiles;
    if (src === 'lat' || src === 'clat') {
      notes.push(
        src === 'lat'
          ? 'randread-qd1-latency: p50 is total latency on both sides: fio lat_ns (--lat_percentiles=1: submission + completion), ' +
              'aioring performance.now() before the call to after its promise resolves'
          : 'randread-qd1-latency: fio printed no total-latency percentiles, so its p50 is clat (completion only, without submission); ' +
              'aioring is total latency (performance.now() around the awaited read) - not like with like',
      );
    }
  }
  const qd32 = points.get('randread-qd32-disk');
  if (qd32) {
    const fsp = qd32.results.find((r) => r.driver === 'fs-promises' && r.metrics);
    const uv = fsp?.metrics?.extra?.uvThreads;
    notes.push(
      `fs-promises: ${qd32.qd} promises in flight, O_DIRECT with aligned buffers, on libuv's default pool` +
        `${typeof uv === 'number' ? ` (UV_THREADPOOL_SIZE ${uv})` : ''}; fs-promises-uv${qd32.qd} (one thread per op in flight) is in the run table for information`,
    );
    notes.push(
      'cpu-per-io: aioring = process.cpuUsage() of the whole trial process (every thread) over the measured window; ' +
        "fio = usr_cpu + sys_cpu of its job thread (--thread) over the job's runtime",
    );
  }
  const mem = results.find((r) => r.kind === 'memory')?.memory;
  if (mem) {
    const f = (v: number | null) => (v === null ? '-' : `${v >= 0 ? '+' : ''}${v.toFixed(2)} MiB`);
    notes.push(
      `memory: ${compactNumber(memoryOps)} measured ops after a ${compactNumber(warmupOps)}-op warm-up per round, RSS from process.memoryUsage().rss ` +
        `in the trial process at the end of the warm-up and at the end; RSS ${mem.rssStartMiB?.toFixed(1) ?? '-'} -> ${mem.rssEndMiB?.toFixed(1) ?? '-'} MiB (medians)`,
    );
    notes.push(
      `memory, medians of the other growths: RssAnon ${f(mem.rssAnonGrowthMiB)}, V8 heapTotal ${f(mem.heapTotalGrowthMiB)} ` +
        `(heapUsed ${f(mem.heapUsedGrowthMiB)}), external+arrayBuffers ${f(mem.externalGrowthMiB)}; the native malloc heap is not ` +
        'counted on its own (mallinfo2 is not reachable from JS): it is part of RSS and RssAnon, roughly RssAnon - heapTotal - external',
    );
  }
  return notes;
}

// Runs a named suite (suites.ts): creates its files (a 1 GiB file in the
// temporary directory and one on /dev/shm, each holding the verification
// pattern), runs every preset comparison through the ordinary plan and runner
// (each trial in its own child process, rounds alternating), prints each
// run's table as it finishes and the PASS/FAIL summary at the end, writes
// --json, and removes the files (also on an error or Ctrl-C).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BenchOptions } from './args';
import { EXIT } from './exit';
import { machineInfo } from './machine';
import { Pattern } from './pattern';
import { makePlan, probeLibrary, type Plan } from './plan';
import { prepareTarget } from './prepare';
import { ProgressLine } from './progress';
import { buildReport, writeJsonFile } from './report/json';
import { compactNumber, micros } from './report/format';
import { describeFile, renderSuiteSummary, type SuiteFile, type SuiteReport, type SuiteRunRecord } from './report/suite';
import { renderTable } from './report/table';
import type { MachineInfo, PointResult } from './results';
import { Runner } from './runner';
import { formatBytes } from './sizes';
import {
  evaluateTargets,
  overallVerdict,
  runDrivers,
  runOptions,
  selectTargets,
  SUITES,
  SuiteSelectionError,
  type CheckResult,
  type Storage,
  type SuiteRun,
  type SuiteTarget,
} from './suites';
import { createTempTarget, removeTargetSync, stampTarget, storageInfo, TargetError } from './target';
import { rwReads, rwWrites, type EngineName } from './types';

const TMPFS_MAGIC = 0x01021994;
const TMPFS_DIR = '/dev/shm';

function errorLine(message: string): void {
  process.stderr.write(`aioring-bench: error: ${message}\n`);
}

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

function trialLine(run: string, index: number, total: number, label: string, rep: number, m: { iops: number; mibps: number; latUs: { p50: number } } | null, error: string | null): string {
  const what = m ? `${compactNumber(m.iops)} IOPS, ${m.mibps.toFixed(1)} MiB/s, p50 ${micros(m.latUs.p50)} µs` : `failed: ${error}`;
  return `  [${run} ${index}/${total}] ${label} round ${rep + 1}: ${what}`;
}

function notesFor(results: CheckResult[], points: ReadonlyMap<string, PointResult | null>, options: BenchOptions, memoryOps: number, warmupOps: number): string[] {
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

/** Runs the suite named in options.suite; returns the exit code. */
export async function runSuite(options: BenchOptions, argv: string[], ui: { interactive: boolean }): Promise<{ code: number; report: SuiteReport | null }> {
  const suite = SUITES[options.suite ?? ''];
  if (!suite) {
    errorLine(`unknown suite "${options.suite}"`);
    return { code: EXIT.usage, report: null };
  }
  let selection: { targets: SuiteTarget[]; runs: SuiteRun[] };
  try {
    selection = selectTargets(suite, options.only);
  } catch (e) {
    if (e instanceof SuiteSelectionError) {
      errorLine(e.message);
      return { code: EXIT.usage, report: null };
    }
    throw e;
  }
  const fileSize = options.size ?? suite.fileSize;
  if (fileSize < 1024 * 1024 || fileSize % (1024 * 1024) !== 0) {
    errorLine(`--size ${formatBytes(fileSize)}: the suite's files must be a whole number of MiB, at least 1 MiB`);
    return { code: EXIT.usage, report: null };
  }
  const memoryOps = options.ops ?? suite.memoryOps;
  const warmupOps = suite.memoryWarmupOps;
  const started = new Date();
  const startedMs = Date.now();

  const progress = new ProgressLine(ui.interactive);
  const log = (line: string) => (ui.interactive ? progress.log(line) : process.stderr.write(line + '\n'));
  const out = (text: string) => {
    progress.clear();
    process.stdout.write(text);
  };

  // Files the suite made: removed at the end, on an error, and on a signal.
  const files = new Map<Storage, SuiteFile>();
  const removeFiles = () => {
    for (const f of files.values()) removeTargetSync(f.path);
  };
  let runner: Runner | null = null;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const finish = () => {
      progress.clear();
      removeFiles();
      process.stderr.write(`aioring-bench: interrupted (${signal})${files.size > 0 ? ', suite files removed' : ''}\n`);
      process.exit(EXIT.interrupted);
    };
    if (interrupted || !runner) return finish();
    interrupted = true;
    void runner.abort().then(finish, finish);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  process.on('exit', removeFiles);

  const pattern = new Pattern(options.seed);
  const dirty = new Set<Storage>(); // fio wrote over the pattern
  const ensureFile = async (storage: Storage): Promise<SuiteFile> => {
    const existing = files.get(storage);
    if (existing) return existing;
    const dir = storage === 'disk' ? os.tmpdir() : TMPFS_DIR;
    if (storage === 'tmpfs') {
      const problem = tmpfsProblem(dir);
      if (problem) throw new TargetError(problem);
    }
    const file = suiteFilePath(dir);
    const info = { storage, path: file, size: fileSize, filesystem: null, device: null } as SuiteFile;
    files.set(storage, info); // before creating it, so an interruption removes a half-written file
    log(`creating ${formatBytes(fileSize)} ${storage} file ${file} (verification pattern)`);
    const t0 = Date.now();
    await createTempTarget(file, fileSize, pattern);
    const st = storageInfo(file, 'file');
    info.filesystem = st.filesystem;
    info.device = st.device;
    log(`  created in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return info;
  };

  const records: SuiteRunRecord[] = [];
  const points = new Map<string, PointResult | null>();
  let machine: MachineInfo | null = null;
  let verificationFailed = false;
  let trialFailed = false;
  try {
    const engines = await probeLibrary();
    const auto: EngineName | null = engines.auto;
    if (!auto) log(`aioring: ${engines.error ?? 'no engine'}; aioring checks will be ERROR`);
    const timeTrials = selection.runs.filter((r) => !r.memory).reduce((n, r) => n + runDrivers(r, auto).length, 0) * options.repeat;
    const memTrials = selection.runs.some((r) => r.memory) ? options.repeat : 0;
    out(
      `aioring-bench --suite ${suite.name}: ${selection.targets.length} targets, ${selection.runs.length} runs, ` +
        `${timeTrials} timed trials of ${options.runtimeS} s (+${options.rampS} s ramp)` +
        `${memTrials ? ` and ${memTrials} memory trials of ${compactNumber(warmupOps)}+${compactNumber(memoryOps)} ops` : ''}; engine auto = ${auto ?? '-'}\n`,
    );

    for (const run of selection.runs) {
      if (interrupted) break;
      const targetsHere = selection.targets.filter((t) => t.run === run.id).map((t) => t.name);
      const record: SuiteRunRecord = { id: run.id, drivers: runDrivers(run, auto), report: null, error: null };
      records.push(record);
      points.set(run.id, null);
      if (record.drivers.length === 0) {
        record.error = 'no driver to run (the aioring library is not loadable)';
        out(`\n== run ${run.id}: skipped: ${record.error} ==\n`);
        continue;
      }
      let plan: Plan;
      const runStarted = new Date();
      try {
        const file = await ensureFile(run.storage);
        if (dirty.has(run.storage) && rwReads(run.rw)) {
          log(`restoring the verification pattern over ${file.path} (fio wrote its own data)`);
          await stampTarget(file.path, file.size, pattern);
          dirty.delete(run.storage);
        }
        plan = await makePlan(runOptions(options, run, file, auto, { ops: memoryOps, warmupOps }));
        await prepareTarget(plan, log);
      } catch (e) {
        record.error = (e as Error).message;
        trialFailed = true;
        out(`\n== run ${run.id}: could not start: ${record.error} ==\n`);
        continue;
      }
      out(`\n== run ${run.id} (target${targetsHere.length > 1 ? 's' : ''} ${targetsHere.join(', ')}) ==\n`);
      let lastIndex = 0;
      let lastTotal = 0;
      runner = new Runner({
        log,
        progress: ui.interactive,
        onProgress: (p) => {
          lastIndex = p.index;
          lastTotal = p.total;
          progress.update(p);
        },
        onTrialEnd: (spec, outcome) => {
          if (!ui.interactive) process.stderr.write(trialLine(run.id, lastIndex, lastTotal, spec.label, outcome.repetition, outcome.metrics, outcome.error) + '\n');
        },
      });
      const result = await runner.run(plan);
      runner = null;
      if (interrupted) break;
      if (plan.drivers.some((d) => d.available && d.def.family === 'fio') && rwWrites(run.rw)) dirty.add(run.storage);
      machine ??= machineInfo(plan.fio);
      const report = buildReport(plan, result, machine, {
        startedAt: runStarted,
        finishedAt: new Date(),
        command: argv,
        notes: plan.drivers.some((d) => d.available && d.def.family === 'fio') ? ['fio results are not verified: fio reads whatever the target holds'] : [],
      });
      record.report = report;
      points.set(run.id, result[0] ?? null);
      if (report.verificationFailed) verificationFailed = true;
      if (result.some((p) => p.results.some((r) => r.status === 'failed'))) trialFailed = true;
      out(renderTable(report));
    }
    if (interrupted) return { code: EXIT.interrupted, report: null };

    const checks = evaluateTargets(selection.targets, points, auto);
    const finished = new Date();
    const durationS = (Date.now() - startedMs) / 1000;
    const notes = [
      ...[...files.values()].map((f) => `file ${describeFile(f)}, removed at the end`),
      ...notesFor(checks, points, options, memoryOps, warmupOps),
    ];
    out(
      '\n' +
        renderSuiteSummary(checks, {
          suite,
          targets: selection.targets,
          auto,
          repeat: options.repeat,
          runtimeS: options.runtimeS,
          durationS,
          notes,
        }),
    );
    const verdict = overallVerdict(checks);
    const report: SuiteReport = {
      tool: 'aioring-bench',
      kind: 'suite',
      suite: suite.name,
      schemaVersion: 1,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationS,
      command: argv,
      machine,
      engines: { auto, probe: engines.probe, error: engines.error },
      params: {
        runtimeS: options.runtimeS,
        rampS: options.rampS,
        repeat: options.repeat,
        seed: options.seed,
        verifyEvery: options.verifyEvery,
        fileSize,
        memoryOps,
        memoryWarmupOps: warmupOps,
      },
      files: [...files.values()],
      targets: selection.targets,
      checks,
      verdict,
      runs: records,
      notes,
      verificationFailed,
    };
    if (options.json) {
      writeJsonFile(options.json, report);
      log(`JSON: ${options.json}`);
    }
    if (verificationFailed) errorLine('VERIFICATION FAILED: a driver returned wrong data (see the run tables)');
    const code = verificationFailed
      ? EXIT.verification
      : verdict === 'ERROR' || trialFailed
        ? EXIT.trialFailed
        : verdict === 'FAIL'
          ? EXIT.barMissed
          : EXIT.ok;
    return { code, report };
  } finally {
    for (const s of signals) process.off(s, onSignal);
    progress.clear();
    removeFiles();
    process.off('exit', removeFiles);
  }
}

// Runs a named suite (suite.ts) in steps: check the selection, make the
// suite's files (files.ts), run every preset comparison through the ordinary
// plan and runner (each trial in its own child process, rounds alternating)
// printing each run's table as it finishes, then evaluate the checks, print
// the PASS/FAIL summary, write --json, and remove the files (also on an error
// or Ctrl-C).

import type { BenchOptions } from '../options/args';
import { EXIT } from '../options/exit';
import { formatBytes } from '../options/sizes';
import { compactNumber, micros } from '../report/format';
import { buildReport, writeJsonFile } from '../report/json';
import { ProgressLine } from '../report/progress';
import type { MachineInfo, PointResult } from '../report/results';
import { renderTable } from '../report/table';
import { machineInfo } from '../setup/machine';
import { Pattern } from '../setup/pattern';
import { makePlan, planOverwritesPattern, probeLibrary, unverifiedDriverNotes, type Plan } from '../setup/plan';
import { prepareTarget } from '../setup/prepare';
import { Runner } from '../trial/runner';
import type { LibraryProbe } from '../drivers/driver';
import { rwReads, type TrialMetrics } from '../types';
import { SuiteFiles } from './files';
import { notesFor } from './notes';
import { evaluateTargets, overallVerdict, type CheckResult, type Verdict } from './evaluate';
import { runDrivers, runOptions, selectTargets, SuiteSelectionError, type Suite, type SuiteRun, type SuiteTarget } from './suite';
import { SUITES } from './targets';
import { describeFile, renderSuiteSummary, type SuiteReport, type SuiteRunRecord } from './summary';

function errorLine(message: string): void {
  process.stderr.write(`aioring-bench: error: ${message}\n`);
}

/** What a suite run was asked for, once the command line has been checked. */
interface SuiteRequest {
  suite: Suite;
  targets: SuiteTarget[];
  runs: SuiteRun[];
  fileSize: number;
  memoryOps: number;
  warmupOps: number;
}

/** How the runs went, as the summary and the exit code need it. */
interface RunsOutcome {
  records: SuiteRunRecord[];
  /** Each run's first point, by run id (null: the run did not finish). */
  points: Map<string, PointResult | null>;
  machine: MachineInfo | null;
  verificationFailed: boolean;
  trialFailed: boolean;
}

/** Step 1: the suite, the targets it runs and its file size, or a usage error. */
function resolveRequest(options: BenchOptions): SuiteRequest | string {
  const suite = SUITES[options.suite ?? ''];
  if (!suite) return `unknown suite "${options.suite}"`;
  let selection: { targets: SuiteTarget[]; runs: SuiteRun[] };
  try {
    selection = selectTargets(suite, options.only);
  } catch (e) {
    if (e instanceof SuiteSelectionError) return e.message;
    throw e;
  }
  const fileSize = options.size ?? suite.fileSize;
  if (fileSize < 1024 * 1024 || fileSize % (1024 * 1024) !== 0) {
    return `--size ${formatBytes(fileSize)}: the suite's files must be a whole number of MiB, at least 1 MiB`;
  }
  return { suite, ...selection, fileSize, memoryOps: options.ops ?? suite.memoryOps, warmupOps: suite.memoryWarmupOps };
}

function headline(request: SuiteRequest, options: BenchOptions, auto: LibraryProbe['auto']): string {
  const timeTrials = request.runs.filter((r) => !r.memory).reduce((n, r) => n + runDrivers(r, auto).length, 0) * options.repeat;
  const memTrials = request.runs.some((r) => r.memory) ? options.repeat : 0;
  return (
    `aioring-bench --suite ${request.suite.name}: ${request.targets.length} targets, ${request.runs.length} runs, ` +
    `${timeTrials} timed trials of ${options.runtimeS} s (+${options.rampS} s ramp)` +
    `${memTrials ? ` and ${memTrials} memory trials of ${compactNumber(request.warmupOps)}+${compactNumber(request.memoryOps)} ops` : ''}; engine auto = ${auto ?? '-'}\n`
  );
}

function trialLine(run: string, index: number, total: number, label: string, rep: number, m: TrialMetrics | null, error: string | null): string {
  const what = m ? `${compactNumber(m.iops)} IOPS, ${m.mibps.toFixed(1)} MiB/s, p50 ${micros(m.latUs.p50)} µs` : `failed: ${error}`;
  return `  [${run} ${index}/${total}] ${label} round ${rep + 1}: ${what}`;
}

/** The terminal side of a suite run: the progress line, log lines and printed tables. */
class SuiteConsole {
  readonly progress: ProgressLine;

  constructor(readonly interactive: boolean) {
    this.progress = new ProgressLine(interactive);
  }

  log = (line: string): void => {
    if (this.interactive) this.progress.log(line);
    else process.stderr.write(line + '\n');
  };

  out(text: string): void {
    this.progress.clear();
    process.stdout.write(text);
  }
}

/**
 * Step 2: every run of the request, one after the other. `current` holds the
 * runner of the run under way, so a signal handler can abort it.
 */
async function runAll(
  request: SuiteRequest,
  options: BenchOptions,
  argv: string[],
  auto: LibraryProbe['auto'],
  files: SuiteFiles,
  ui: SuiteConsole,
  current: { runner: Runner | null; interrupted: boolean },
): Promise<RunsOutcome> {
  const outcome: RunsOutcome = { records: [], points: new Map(), machine: null, verificationFailed: false, trialFailed: false };
  for (const run of request.runs) {
    if (current.interrupted) break;
    const record: SuiteRunRecord = { id: run.id, drivers: runDrivers(run, auto), report: null, error: null };
    outcome.records.push(record);
    outcome.points.set(run.id, null);
    if (record.drivers.length === 0) {
      record.error = 'no driver to run (the aioring library is not loadable)';
      ui.out(`\n== run ${run.id}: skipped: ${record.error} ==\n`);
      continue;
    }
    let plan: Plan;
    const runStarted = new Date();
    try {
      const file = await files.forRun(run.storage, rwReads(run.rw));
      plan = await makePlan(runOptions(options, run, file, auto, { ops: request.memoryOps, warmupOps: request.warmupOps }));
      await prepareTarget(plan, ui.log);
    } catch (e) {
      record.error = (e as Error).message;
      outcome.trialFailed = true;
      ui.out(`\n== run ${run.id}: could not start: ${record.error} ==\n`);
      continue;
    }
    const targetsHere = request.targets.filter((t) => t.run === run.id).map((t) => t.name);
    ui.out(`\n== run ${run.id} (target${targetsHere.length > 1 ? 's' : ''} ${targetsHere.join(', ')}) ==\n`);
    const result = await runPlan(plan, run.id, ui, current);
    if (current.interrupted) break;
    if (planOverwritesPattern(plan)) files.markOverwritten(run.storage);
    outcome.machine ??= machineInfo(plan.fio);
    const report = buildReport(plan, result, outcome.machine, {
      startedAt: runStarted,
      finishedAt: new Date(),
      command: argv,
      notes: unverifiedDriverNotes(plan),
    });
    record.report = report;
    outcome.points.set(run.id, result[0] ?? null);
    if (report.verificationFailed) outcome.verificationFailed = true;
    if (result.some((p) => p.results.some((r) => r.status === 'failed'))) outcome.trialFailed = true;
    ui.out(renderTable(report));
  }
  return outcome;
}

/** One run's plan through a Runner, with a line per finished trial when nobody watches the progress line. */
async function runPlan(plan: Plan, runId: string, ui: SuiteConsole, current: { runner: Runner | null }): Promise<PointResult[]> {
  let lastIndex = 0;
  let lastTotal = 0;
  current.runner = new Runner({
    log: ui.log,
    progress: ui.interactive,
    onProgress: (p) => {
      lastIndex = p.index;
      lastTotal = p.total;
      ui.progress.update(p);
    },
    onTrialEnd: (spec, outcome) => {
      if (!ui.interactive) process.stderr.write(trialLine(runId, lastIndex, lastTotal, spec.label, outcome.repetition, outcome.metrics, outcome.error) + '\n');
    },
  });
  try {
    return await current.runner.run(plan);
  } finally {
    current.runner = null;
  }
}

/** Step 4: the exit status: verification beats a failed trial or missing measurement, which beats a missed bar. */
function exitCode(outcome: RunsOutcome, verdict: Verdict): number {
  if (outcome.verificationFailed) return EXIT.verification;
  if (verdict === 'ERROR' || outcome.trialFailed) return EXIT.trialFailed;
  return verdict === 'FAIL' ? EXIT.barMissed : EXIT.ok;
}

/** Runs the suite named in options.suite; returns the exit code and the report. */
export async function runSuite(options: BenchOptions, argv: string[], ui: { interactive: boolean }): Promise<{ code: number; report: SuiteReport | null }> {
  const request = resolveRequest(options);
  if (typeof request === 'string') {
    errorLine(request);
    return { code: EXIT.usage, report: null };
  }
  const started = new Date();
  const startedMs = Date.now();
  const terminal = new SuiteConsole(ui.interactive);
  const files = new SuiteFiles(request.fileSize, new Pattern(options.seed), terminal.log);

  const current: { runner: Runner | null; interrupted: boolean } = { runner: null, interrupted: false };
  const onSignal = (signal: NodeJS.Signals) => {
    const finish = () => {
      terminal.progress.clear();
      files.removeAll();
      process.stderr.write(`aioring-bench: interrupted (${signal})${files.count > 0 ? ', suite files removed' : ''}\n`);
      process.exit(EXIT.interrupted);
    };
    if (current.interrupted || !current.runner) return finish();
    current.interrupted = true;
    void current.runner.abort().then(finish, finish);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  process.on('exit', files.removeAll);

  try {
    const engines = await probeLibrary();
    if (!engines.auto) terminal.log(`aioring: ${engines.error ?? 'no engine'}; aioring checks will be ERROR`);
    terminal.out(headline(request, options, engines.auto));
    const outcome = await runAll(request, options, argv, engines.auto, files, terminal, current);
    if (current.interrupted) return { code: EXIT.interrupted, report: null };

    // Step 3: checks, summary and report.
    const checks = evaluateTargets(request.targets, outcome.points, engines.auto);
    const durationS = (Date.now() - startedMs) / 1000;
    const notes = [
      ...files.list().map((f) => `file ${describeFile(f)}, removed at the end`),
      ...notesFor(checks, outcome.points, options, request.memoryOps, request.warmupOps),
    ];
    terminal.out(
      '\n' +
        renderSuiteSummary(checks, {
          suite: request.suite,
          targets: request.targets,
          auto: engines.auto,
          repeat: options.repeat,
          runtimeS: options.runtimeS,
          durationS,
          notes,
        }),
    );
    const verdict = overallVerdict(checks);
    const report = suiteReport(request, options, argv, { started, durationS, engines, files, checks, verdict, outcome, notes });
    if (options.json) {
      writeJsonFile(options.json, report);
      terminal.log(`JSON: ${options.json}`);
    }
    if (outcome.verificationFailed) errorLine('VERIFICATION FAILED: a driver returned wrong data (see the run tables)');
    return { code: exitCode(outcome, verdict), report };
  } finally {
    for (const s of signals) process.off(s, onSignal);
    terminal.progress.clear();
    files.removeAll();
    process.off('exit', files.removeAll);
  }
}

function suiteReport(
  request: SuiteRequest,
  options: BenchOptions,
  argv: string[],
  r: {
    started: Date;
    durationS: number;
    engines: LibraryProbe;
    files: SuiteFiles;
    checks: CheckResult[];
    verdict: Verdict;
    outcome: RunsOutcome;
    notes: string[];
  },
): SuiteReport {
  return {
    tool: 'aioring-bench',
    kind: 'suite',
    suite: request.suite.name,
    schemaVersion: 1,
    startedAt: r.started.toISOString(),
    finishedAt: new Date().toISOString(),
    durationS: r.durationS,
    command: argv,
    machine: r.outcome.machine,
    engines: { auto: r.engines.auto, probe: r.engines.probe, error: r.engines.error },
    params: {
      runtimeS: options.runtimeS,
      rampS: options.rampS,
      repeat: options.repeat,
      seed: options.seed,
      verifyEvery: options.verifyEvery,
      fileSize: request.fileSize,
      memoryOps: request.memoryOps,
      memoryWarmupOps: request.warmupOps,
    },
    files: r.files.list(),
    targets: request.targets,
    checks: r.checks,
    verdict: r.verdict,
    runs: r.outcome.records,
    notes: r.notes,
    verificationFailed: r.outcome.verificationFailed,
  };
}

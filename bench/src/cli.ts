#!/usr/bin/env node
// aioring-bench: arguments -> plan -> prepared target -> trials (each in a
// child process) -> table on stdout, and JSON / SVG files when asked.

import { CHECKSUM_DEFAULTS, helpText, parseArgs, UsageError, type BenchOptions } from './options/args';
import { machineInfo } from './setup/machine';
import { makePlan, unverifiedDriverNotes, type Plan } from './setup/plan';
import { prepareTarget } from './setup/prepare';
import { ProgressLine } from './report/progress';
import { buildReport, writeJsonReport } from './report/json';
import { writeSvgReport } from './report/svg';
import { renderTable } from './report/table';
import type { BenchReport } from './report/results';
import { Runner } from './trial/runner';
import { runSuite } from './suites/run';
import { runChecksumBench } from './checksums/throughput';
import { removeTargetSync, TargetError } from './setup/target';

import { EXIT } from './options/exit';

export { EXIT };

function errorLine(message: string): void {
  process.stderr.write(`aioring-bench: error: ${message}\n`);
}

/** Runs the whole bench for already parsed options; returns the report and exit code. */
export async function runBench(
  options: BenchOptions,
  argv: string[],
  ui: { interactive: boolean },
): Promise<{ report: BenchReport | null; code: number }> {
  const progress = new ProgressLine(ui.interactive);
  const log = (line: string) => (ui.interactive ? progress.log(line) : undefined);
  const startedAt = new Date();

  let plan: Plan;
  try {
    plan = await makePlan(options);
  } catch (e) {
    if (e instanceof UsageError || e instanceof TargetError) {
      errorLine(e.message);
      return { report: null, code: EXIT.usage };
    }
    throw e;
  }

  const temporary = plan.target.temporary ? plan.target.path : null;
  const runner = new Runner({
    log,
    progress: ui.interactive,
    onProgress: (p) => progress.update(p),
  });
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const finish = () => {
      progress.clear();
      if (temporary) removeTargetSync(temporary);
      process.stderr.write(`aioring-bench: interrupted (${signal})${temporary ? ', temporary target removed' : ''}\n`);
      process.exit(EXIT.interrupted);
    };
    if (interrupted) return finish(); // a second Ctrl-C: do not wait for the trial's child
    interrupted = true;
    void runner.abort().then(finish, finish);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);

  try {
    try {
      await prepareTarget(plan, log);
    } catch (e) {
      if (e instanceof TargetError || e instanceof UsageError) {
        errorLine(e.message);
        return { report: null, code: EXIT.usage };
      }
      throw e;
    }
    const notes = unverifiedDriverNotes(plan);
    const points = await runner.run(plan);
    progress.clear();
    const report = buildReport(plan, points, machineInfo(plan.fio), {
      startedAt,
      finishedAt: new Date(),
      command: argv,
      notes,
    });
    process.stdout.write(renderTable(report));
    if (options.json) writeJsonReport(options.json, report);
    if (options.svg) writeSvgReport(options.svg, report);
    if (ui.interactive && (options.json || options.svg)) {
      log([options.json && `JSON: ${options.json}`, options.svg && `SVG: ${options.svg}`].filter(Boolean).join('  '));
    }
    const failed = points.some((p) => p.results.some((r) => r.status === 'failed'));
    const code = report.verificationFailed ? EXIT.verification : failed ? EXIT.trialFailed : EXIT.ok;
    if (report.verificationFailed) errorLine('VERIFICATION FAILED: a driver returned wrong data (see the table)');
    return { report, code };
  } finally {
    for (const s of signals) process.off(s, onSignal);
    progress.clear();
    if (temporary) removeTargetSync(temporary);
  }
}

export async function main(argv: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      errorLine(e.message);
      process.stderr.write('Try aioring-bench --help.\n');
      return EXIT.usage;
    }
    throw e;
  }
  if (options.help) {
    process.stdout.write(helpText());
    return EXIT.ok;
  }
  const interactive = Boolean(process.stderr.isTTY) && options.json === null;
  if (options.suite !== null) return (await runSuite(options, argv, { interactive })).code;
  if (options.checksums) {
    const seconds = options.runtimeS ?? CHECKSUM_DEFAULTS.runtimeS;
    return runChecksumBench({ repeat: options.repeat, seconds, json: options.json }).code === 0 ? EXIT.ok : EXIT.trialFailed;
  }
  const { code } = await runBench(options, argv, { interactive });
  return code;
}

/** Runs the command line of this process and sets its exit code. */
export function runCommandLine(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      errorLine((e as Error)?.stack ?? String(e));
      process.exitCode = EXIT.trialFailed;
    },
  );
}

if (require.main === module) runCommandLine();

// The JSON report: every result with its parameters, machine and target.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plan } from '../setup/plan';
import type { BenchReport, MachineInfo, PointResult } from './results';

export interface ReportTiming {
  startedAt: Date;
  finishedAt: Date;
  command: string[];
  notes: string[];
}

export function buildReport(plan: Plan, points: PointResult[], machine: MachineInfo, timing: ReportTiming): BenchReport {
  const o = plan.options;
  const t = plan.target;
  const verificationFailed = points.some((p) => p.results.some((r) => r.trials.some((x) => x.verification)));
  return {
    tool: 'aioring-bench',
    schemaVersion: 1,
    startedAt: timing.startedAt.toISOString(),
    finishedAt: timing.finishedAt.toISOString(),
    durationS: (timing.finishedAt.getTime() - timing.startedAt.getTime()) / 1000,
    command: timing.command,
    machine,
    target: {
      path: t.path,
      kind: t.kind,
      temporary: t.temporary,
      size: t.size,
      region: plan.region,
      logicalBlockSize: t.logicalBlockSize,
      blockSizeSource: t.blockSizeSource,
      storage: { ...t.storage },
    },
    params: {
      rw: o.rw,
      bs: o.bs,
      qd: o.qd,
      batch: o.batch,
      direct: o.direct,
      runtimeS: o.runtimeS,
      ops: o.ops,
      rampS: o.rampS,
      repeat: o.repeat,
      rwmixread: o.rwmixread,
      verifyEvery: o.verifyEvery,
      seed: o.seed,
      region: plan.region,
      sweep: o.sweep,
      drivers: plan.drivers.map((d) => d.driver.id),
      stream: o.stream,
    },
    engines: { probe: plan.engines.probe, auto: plan.engines.auto, error: plan.engines.error },
    references: plan.references,
    points,
    notes: timing.notes,
    verificationFailed,
  };
}

/** Writes the report atomically (temporary file, then rename). */
export function writeJsonReport(file: string, report: BenchReport): void {
  writeJsonFile(file, report);
}

/** Writes any JSON document atomically (temporary file, then rename). */
export function writeJsonFile(file: string, doc: unknown): void {
  const text = JSON.stringify(doc, null, 2) + '\n';
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

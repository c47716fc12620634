// The one shape every bench driver has. The parent process uses the
// describing half (names, availability, what the driver adds to a trial's
// spec) to plan and report; the trial's child process calls run().

import type { EngineName, TrialMetrics, TrialSpec } from '../types';
import type { WorkerContext } from '../trial/workload';

export type DriverFamily = 'aioring' | 'aioring-batch' | 'fs-promises' | 'fio';

/** What the library said when the parent probed it (null fields: not loadable). */
export interface LibraryProbe {
  probe: Record<string, { available: boolean; code?: string; reason: string }> | null;
  auto: EngineName | null;
  error: string | null;
}

/** What the parent knows about this machine when it decides which drivers can run. */
export interface HostFacts {
  library: LibraryProbe;
  /** fio's version, or null when fio is not installed. */
  fio: string | null;
  /** --integrity was given: the target carries protection trailers. */
  integrity: boolean;
}

/** What a driver's run() is handed inside the trial's child process. */
export interface TrialContext extends WorkerContext {
  /** For drivers that measure themselves: the measured phase starts (progress display only). */
  setPhase(phase: 'ramp' | 'run'): void;
}

export interface DriverRunResult {
  /** Remarks a reader should see next to the results. */
  notes: string[];
  /** Driver-specific facts for the report (engine, syscallsPerOp, ...). */
  extra: Record<string, number | string>;
  /** Only drivers with measures === 'self': their own measurement of the trial. */
  metrics?: TrialMetrics;
}

export interface Driver {
  /** Canonical id, as --drivers spells it. */
  readonly id: string;
  readonly family: DriverFamily;
  /** One line for --help. */
  readonly description: string;
  /** The --drivers group names (registry.ts DRIVER_GROUPS) that include this driver, besides "all". */
  readonly groups: readonly string[];
  /**
   * 'recorder': run() does its I/O through ctx (the shared workload: op
   * stream, Recorder, Verifier) and the child turns the recording into
   * metrics. 'self': an outside tool that measures itself; run() returns
   * metrics, and its reads are not verified.
   */
  readonly measures: 'recorder' | 'self';
  /**
   * Its writes carry the verification pattern. False for a driver that writes
   * its own data: after it writes, the target is restamped before the next
   * verifying driver reads.
   */
  readonly writesPattern: boolean;
  /** Never opens O_DIRECT, whatever --direct says. */
  readonly buffered: boolean;
  /** Runs the --rw append workload, and only that (the other drivers run every other mode). */
  readonly appends: boolean;
  /** The name in tables and charts at a queue depth. */
  label(qd: number): string;
  /** The driver's own fields of a trial's spec at a queue depth. */
  specFields(qd: number): Pick<TrialSpec, 'engine' | 'fioEngine' | 'uvThreads' | 'protect'>;
  /** Why it cannot run on this machine, or null when it can. */
  unavailableReason(host: HostFacts): string | null;
  /** Runs one trial, in the trial's own child process. */
  run(ctx: TrialContext): Promise<DriverRunResult>;
  /** Stops at once what run() started outside this process (the child was told to stop). */
  stop?(): void;
}

// Dispatches requests to one engine and settles them: request slots, the
// submission and completion arrays shared with native code, batching of
// everything asked in one synchronous turn into one native call, and the
// queue that holds requests beyond the depth (backpressure) instead of failing
// them. A Ring has one dispatcher, and a second for buffered files on libaio.
import { AioError, LibraryCodes, closedError, forkedError, integrityError, libraryError, systemError } from './errors';
import { nativeProfile, positionedFaults } from './integrity';
import { native } from './native';
import type { EngineBinding, NativeCounters, NativeRegistration, NativeRegistrationFailure } from './native';
import type { CancelGuard } from './cancellation';
import {
  CancelOutcome,
  CompletionField,
  CompletionResult,
  OpCodes,
  RecordField,
  RecordStatus,
  RequestFlags,
  SubmitAnswer,
  completionBytes,
  completionDoubles,
  completionInts,
  completionLatencyDouble,
  opNames,
  recordBytes,
  recordDoubles,
  recordInts,
  recordDeadlineDouble,
  recordPositionDouble,
} from './native-contract';
import { LatencyRecorder } from './latency';
import { PendingBatch } from './pending-batch';
import { SyncCoalescer } from './sync-coalescer';
import type { EngineName, FileProtection, RingStats } from './types';

/** What a request needs to know about the file it targets. */
export interface RequestTarget {
  readonly fd: number;
  readonly path: string;
  readonly memAlign: number;
  /** Opened for writing; a kernel EBADF on a write to a target that is not says why. */
  readonly writable: boolean;
  /** How its reads and writes are protected, if they are. */
  readonly integrity: FileProtection | undefined;
  /** Called once each time a request on this target has settled. */
  requestSettled(): void;
}

/**
 * One request and how it settles: through its own promise (resolve/reject),
 * or as entry `index` of a batch. Keeping both in the one object the slot
 * holds means a request costs one allocation besides its promise.
 */
export interface IoRequest {
  target: RequestTarget;
  op: number;
  buffers: ArrayBufferView | ArrayBufferView[] | undefined;
  position: number;
  length: number;
  dsync: boolean;
  /** RWF_ATOMIC: the write lands whole or not at all. */
  atomic: boolean;
  /** Part of a kernel chain, linked to the request placed after it (see Dispatcher.enqueueChain). */
  linkNext: boolean;
  /** A direct write that the next entry of an ordered batch, a sync, waits for (RequestFlags.syncNext). */
  syncNext: boolean;
  /** A sync that an ordered batch asks for right after a syncNext write. */
  followsSyncNextWrite: boolean;
  /** Protection tuples, for a protected file's separate layout. */
  pi: ArrayBufferView | undefined;
  resolve: ((bytes: number) => void) | undefined;
  reject: ((error: AioError) => void) | undefined;
  batch: BatchState | undefined;
  index: number;
  /** Only on requests that can be cancelled (a signal or timeoutMs): where the request is. */
  control: RequestControl | undefined;
}

/** Where a cancellable request is, so that cancelling it knows what to undo. */
export const enum RequestState {
  /** In the queue waiting for a slot. */
  waiting,
  /** In a slot, its record written, not yet handed to the engine. */
  batched,
  /** Handed to the engine; only its completion frees the slot. */
  inFlight,
  settled,
  /** A sync in a group of its file's syncs, which one call settles (see lib/sync-coalescer.ts). */
  grouped,
}

export interface RequestControl {
  state: RequestState;
  slot: number;
  /** Its promise already rejected (cancelled in flight); the completion only frees the slot. */
  abandoned: boolean;
  /** The engine was asked to cancel it, so a -ECANCELED completion is the cancel honoured. */
  cancelAsked: boolean;
  /** The single request's own signal and deadline; a batch's guard is the batch's. */
  guard: CancelGuard | undefined;
}

export function newControl(): RequestControl {
  return { state: RequestState.waiting, slot: -1, abandoned: false, cancelAsked: false, guard: undefined };
}

// Every request object gets the same shape, so the hot paths that read them stay monomorphic.
export function newRequest(
  target: RequestTarget,
  op: number,
  buffers: ArrayBufferView | ArrayBufferView[] | undefined,
  position: number,
  length: number,
  dsync: boolean,
  pi: ArrayBufferView | undefined,
): IoRequest {
  return {
    target,
    op,
    buffers,
    position,
    length,
    dsync,
    atomic: false,
    linkNext: false,
    syncNext: false,
    followsSyncNextWrite: false,
    pi,
    resolve: undefined,
    reject: undefined,
    batch: undefined,
    index: 0,
    control: undefined,
  };
}

/** fsync or fdatasync: it moves no bytes, and concurrent ones on a file can share a call. */
export function isSync(request: IoRequest): boolean {
  return request.op === OpCodes.fsync || request.op === OpCodes.fdatasync;
}

export function isWrite(request: IoRequest): boolean {
  return request.op === OpCodes.write || request.op === OpCodes.writev;
}

/** The settlement of a batch: one entry per request, a byte count or its error. */
export interface BatchState {
  results: Array<number | AioError>;
  remaining: number;
  resolve(results: Array<number | AioError>): void;
  /** Set when the batch as a whole was cancelled and has rejected: its entries settle silently. */
  failed: boolean;
  /** Called as each entry settles, after its result is stored (ordered batches start the next). */
  onSettled: ((index: number, outcome: number | AioError) => void) | undefined;
}

// A promise executor shared by every request, so making a promise allocates
// no closure; it hands the resolving functions over through these two.
let capturedResolve: ((bytes: number) => void) | undefined;
let capturedReject: ((error: AioError) => void) | undefined;
function captureResolvers(resolve: (bytes: number) => void, reject: (error: AioError) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

const settledPromise = Promise.resolve();

/** A dispatcher's share of RingStats; the ring adds its dispatchers' counts and derives `bytes` and `latencyUs`. */
export type DispatcherCounters = Omit<RingStats, 'bytes' | 'latencyUs'>;

/** What every dispatcher of a ring is made with (see RingOptions). */
export interface DispatcherOptions {
  depth: number;
  busyPollUs: number;
  /** undefined: the engine's own default (defaultPollBudget). */
  pollBudget: number | undefined;
  latencyStats: boolean;
}

/**
 * Adaptive polling's share of a core when the ring was given no pollBudget: a
 * tenth, enough to poll through the short gaps between a device's completions
 * at QD 32 and beyond, small enough to leave the CPU to the program. None on
 * the thread pool: every request there runs on one of its threads, and a spin
 * takes the CPU that thread needs to run it (the reason no ring spins while a
 * sync is in flight). On this project's 2-core machine, its 4 KiB reads at
 * QD 1 took 135 us at the median with polling, 86 us without.
 */
export function defaultPollBudget(engine: EngineName): number {
  return engine === 'threadpool' ? 0 : 0.1;
}

export class Dispatcher {
  readonly engine: EngineName;
  /** The share of a core adaptive polling may spend (0: off). */
  readonly pollBudget: number;
  /** Whether RequestFlags.linkNext chains run in the kernel (io_uring), with no turn through JS between their requests. */
  readonly linksInKernel: boolean;
  private readonly binding: EngineBinding;
  readonly depth: number;
  private readonly records: Int32Array;
  private readonly positions: Float64Array;
  private readonly completions: Int32Array;
  private readonly completionLatencies: Float64Array;

  private readonly freeSlots: Int32Array;
  private freeCount: number;
  private readonly slotRequest: Array<IoRequest | undefined>;
  readonly latency = new LatencyRecorder();
  // The engine's own counts at the last resetCounts(), which it cannot zero itself.
  private nativeBaseline: NativeCounters | undefined;

  // Requests placed in slots and written to the shared records, not yet submitted.
  private readonly batch: PendingBatch;
  private waiting: IoRequest[] = [];
  private waitingHead = 0;
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  // Abandoned requests in flight whose cancel is still to be asked, and the timer that asks.
  private cancelsToAsk: IoRequest[] = [];
  private cancelTimer: NodeJS.Timeout | undefined;
  private cancelRetries = 0;
  private inflight = 0;
  private idleRetries = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly counters = {
    submitted: 0,
    completed: 0,
    bytesRead: 0,
    bytesWritten: 0,
    cancelled: 0,
    cancelsAsked: 0,
    cancelsHonoured: 0,
    syncsCoalesced: 0,
    syncsFused: 0,
    linkTimeoutsFired: 0,
  };
  private readonly flushBound = () => this.flush();
  private readonly retryCancelsBound = () => this.retryCancels();
  private readonly syncs: SyncCoalescer<IoRequest, IoRequest>;

  static open(
    engine: EngineName,
    { depth, busyPollUs, pollBudget, latencyStats }: DispatcherOptions,
  ): Dispatcher | { errno: number; reason: string } {
    const submissions = new ArrayBuffer(depth * recordBytes);
    const completions = new ArrayBuffer(depth * completionBytes);
    let dispatcher: Dispatcher | undefined;
    const onComplete = (count: number) => dispatcher!.onComplete(count);
    const opened = native.openEngine(engine, depth, submissions, completions, onComplete);
    if (!('submit' in opened)) return opened;
    const budget = pollBudget ?? defaultPollBudget(engine);
    opened.setBusyPoll(busyPollUs);
    opened.setPollBudget(budget);
    opened.setLatencyTiming(latencyStats);
    dispatcher = new Dispatcher(engine, depth, budget, latencyStats, opened, submissions, completions, onComplete);
    return dispatcher;
  }

  private constructor(
    engine: EngineName,
    depth: number,
    pollBudget: number,
    private readonly latencyStats: boolean,
    binding: EngineBinding,
    submissions: ArrayBuffer,
    completions: ArrayBuffer,
    // Native code holds this only weakly while nothing is in flight (so a
    // forgotten binding can be collected); the dispatcher keeps it alive for as long as it lives.
    private readonly completionCallback: (count: number) => void,
  ) {
    this.engine = engine;
    this.pollBudget = pollBudget;
    this.syncs = new SyncCoalescer<IoRequest, IoRequest>(
      {
        issue: (first, op, done) => this.issueSync(first, op, done),
        started: (call) => call.control!.state === RequestState.inFlight || call.control!.state === RequestState.settled,
        settle: (member, outcome) => settle(member, memberOutcome(outcome as number | AioError, member, engine)),
      },
      (request) => (request.followsSyncNextWrite ? 1 : syncCallsInFlight[engine]),
    );
    this.depth = depth;
    this.binding = binding;
    this.linksInKernel = binding.linksInKernel();
    this.records = new Int32Array(submissions);
    this.positions = new Float64Array(submissions);
    this.completions = new Int32Array(completions);
    this.completionLatencies = new Float64Array(completions);
    this.freeSlots = new Int32Array(depth);
    for (let i = 0; i < depth; i++) this.freeSlots[i] = depth - 1 - i;
    this.freeCount = depth;
    this.slotRequest = new Array(depth).fill(undefined);
    this.batch = new PendingBatch(depth);
  }

  /**
   * Queues a request whose settlement (resolve/reject or batch) is already
   * set. A sync joins its file's group of syncs, which makes one call for all.
   */
  enqueue(request: IoRequest): void {
    if (isSync(request) && !this.closed) {
      if (request.control !== undefined) request.control.state = RequestState.grouped;
      if (this.syncs.add(request)) this.counters.syncsCoalesced++;
      return;
    }
    this.admit(request);
  }

  /** Queues a request for the engine: in a slot if one is free, else in the waiting queue. */
  private admit(request: IoRequest): void {
    if (this.closed) {
      settle(request, ringClosed(request));
      return;
    }
    if (this.freeCount > 0 && this.waitingHead === this.waiting.length) {
      this.place(request);
    } else {
      if (request.control !== undefined) request.control.state = RequestState.waiting;
      this.waiting.push(request);
      // Waiting requests are normally admitted by completions; the flush still
      // asks native code whether the engine can make any (it cannot in a forked child).
      this.scheduleFlush();
    }
  }

  /**
   * How many requests a kernel chain could take now (see enqueueChain): the
   * free slots, when the engine runs chains in the kernel and no request waits
   * for a slot ahead of them; else 0.
   */
  chainRoom(): number {
    return this.linksInKernel && !this.closed && this.waitingHead === this.waiting.length ? this.freeCount : 0;
  }

  /**
   * Places at most chainRoom() requests as one kernel chain (IOSQE_IO_LINK):
   * the engine starts each only once the one before has completed in full,
   * with no turn through JS; an error or a short transfer completes the rest
   * with ECANCELED. They go in consecutive records of one flush, and the
   * engine takes a chain whole or not at all.
   */
  enqueueChain(requests: readonly IoRequest[]): void {
    for (let i = 0; i < requests.length; i++) {
      const request = requests[i]!;
      request.linkNext = i + 1 < requests.length;
      this.place(request);
    }
  }

  /** Queues a request and returns the promise of its byte count. */
  request(request: IoRequest): Promise<number> {
    const promise = new Promise<number>(captureResolvers);
    request.resolve = capturedResolve;
    request.reject = capturedReject;
    this.enqueue(request);
    return promise;
  }

  /**
   * Cancels a request made cancellable (request.control) and settles it with
   * `error` at once. Waiting or batched, it never reaches the engine. In flight,
   * the engine is asked to stop it and the slot, with its buffers, stays taken
   * until the completion arrives, so memory the kernel may still write is
   * neither reused nor freed.
   */
  withdraw(request: IoRequest, error: AioError): void {
    const control = request.control!;
    if (control.state === RequestState.settled || control.abandoned) return;
    this.counters.cancelled++;
    if (control.state === RequestState.grouped) {
      // The group's call goes on for its other members.
      this.syncs.leave(request);
      settle(request, error);
    } else if (control.state === RequestState.waiting) {
      const at = this.waiting.indexOf(request, this.waitingHead);
      if (at >= 0) this.waiting.splice(at, 1);
      settle(request, error);
    } else if (control.state === RequestState.batched) {
      const slots = this.batch.takeSlots();
      for (const slot of slots) {
        if (slot !== control.slot) this.appendToBatch(slot, this.slotRequest[slot]!);
        else if (!request.linkNext) this.endChainAtLast();
      }
      this.finish(control.slot, error);
      this.admitWaiting();
    } else {
      control.abandoned = true;
      settleOutcome(request, error);
      this.askCancel(request);
    }
    this.notifyIfIdle();
  }

  // Asks the engine to stop an abandoned request in flight. An ask that could
  // not reach the kernel (it had no memory for the SQE) is made again on a
  // timer, backing off, for as long as the request is in flight: a read on a
  // pipe or socket would otherwise never end, nor would close().
  private askCancel(request: IoRequest): void {
    const control = request.control!;
    const outcome = this.binding.cancel(control.slot);
    if (outcome === CancelOutcome.askLater) {
      this.cancelsToAsk.push(request);
      this.cancelTimer ??= setTimeout(this.retryCancelsBound, Math.min(2 ** this.cancelRetries++, 100));
      return;
    }
    if (outcome !== CancelOutcome.notAsked) this.counters.cancelsAsked++;
    control.cancelAsked = outcome === CancelOutcome.asked;
  }

  private retryCancels(): void {
    this.cancelTimer = undefined;
    const requests = this.cancelsToAsk;
    this.cancelsToAsk = [];
    // One whose completion has come meanwhile no longer holds its slot.
    for (const request of requests) if (this.slotRequest[request.control!.slot] === request) this.askCancel(request);
    if (this.cancelsToAsk.length === 0) this.cancelRetries = 0;
  }

  /** An ordered batch's fdatasync ran as RWF_DSYNC on the write before it (see lib/batch-run.ts). */
  countFusedSync(): void {
    this.counters.syncsFused++;
  }

  /** Zeroes the counts and latencies (not the gauges: inflight, queued). */
  resetCounts(): void {
    for (const key of Object.keys(this.counters) as Array<keyof typeof this.counters>) this.counters[key] = 0;
    this.nativeBaseline = this.binding.counters();
    this.latency.reset();
  }

  counts(): DispatcherCounters {
    const engineCounts = this.binding.counters();
    const baseline = this.nativeBaseline;
    if (baseline !== undefined) {
      for (const key of Object.keys(engineCounts) as Array<keyof NativeCounters>) engineCounts[key] -= baseline[key];
    }
    return {
      ...this.counters,
      inflight: this.inflight,
      queued: this.batch.count + this.waiting.length - this.waitingHead,
      ...engineCounts,
    };
  }

  /** See lib/registered-buffers.ts; a number is a SubmitAnswer. */
  registerBuffers(count: number, size: number): NativeRegistration | NativeRegistrationFailure | number {
    return this.binding.registerBuffers(count, size);
  }

  /** Lets requests on `fd` use a registered file where the engine has them; best effort. */
  registerFile(fd: number): void {
    this.binding.registerFile(fd);
  }

  /** Protects reads and writes on `fd` from now on (see FileIntegrityOptions). */
  setProtection(fd: number, protection: FileProtection): void {
    const profile = nativeProfile(protection, protection.layout === 'trailer', protection.refTagSeed);
    this.binding.setProtection(fd, ...profile, protection.kernelChecks);
  }

  /** After the fd's last request has settled, before it is closed. */
  clearProtection(fd: number): void {
    this.binding.clearProtection(fd);
  }

  /** After the file on `fd` was truncated (the engine may route writes by what it saw of its size). */
  fileResized(fd: number): void {
    this.binding.fileResized(fd);
  }

  /** Must come after the fd's last request has settled and before the fd is closed. */
  unregisterFile(fd: number): void {
    this.binding.unregisterFile(fd);
  }

  /** Stops taking requests, waits for every queued and in-flight one, then frees the engine. */
  async close(): Promise<void> {
    this.closed = true;
    this.abandonIfForked();
    if (!this.idle()) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    this.binding.close();
  }

  /**
   * In a forked child nothing this engine holds will ever complete: not the
   * parent's requests in flight, not what waits for room behind them. Fails
   * them all with ERR_AIO_FORKED so that closing in a child cannot hang.
   */
  abandonIfForked(): void {
    if (this.idle() || !this.forked()) return;
    // Taken before anything settles: a sync group that settles issues its next
    // call into a free slot, and that call, never submitted, is not in flight
    // (it stays batched, and the next flush fails it).
    const inflight = this.inflightSlots();
    this.failBatch(ringForked);
    this.failInflight(inflight, ringForked);
    this.failWaiting(ringForked);
    this.notifyIfIdle();
  }

  /** Whether this engine was inherited through fork(): nothing it holds belongs to this process. */
  forked(): boolean {
    return this.binding.submit(0, this.batch.buffers) === SubmitAnswer.forked;
  }

  private idle(): boolean {
    return this.inflight === 0 && this.batch.count === 0 && this.waitingHead === this.waiting.length;
  }

  private place(request: IoRequest): void {
    const slot = this.freeSlots[--this.freeCount]!;
    this.slotRequest[slot] = request;
    if (request.control !== undefined) {
      request.control.state = RequestState.batched;
      request.control.slot = slot;
    }
    this.appendToBatch(slot, request);
    this.scheduleFlush();
  }

  // The last record of a kernel chain left the batch: the one before it, if
  // it linked to it (chains lie in consecutive records), now ends the chain.
  private endChainAtLast(): void {
    const last = this.batch.count - 1;
    if (last < 0) return;
    const request = this.slotRequest[this.batch.slots[last]!]!;
    if (!request.linkNext) return;
    request.linkNext = false;
    this.records[last * recordInts + RecordField.flags]! &= ~RequestFlags.linkNext;
  }

  /** Writes the slot's record after the batch's last one and lines up its buffers. */
  private appendToBatch(slot: number, request: IoRequest): void {
    this.writeRecord(this.batch.count, slot, request);
    this.batch.add(slot, request.buffers, request.pi);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // A reaction on a settled promise runs at the same point queueMicrotask's
    // callback would, but stays inside V8: Node's queueMicrotask makes an
    // async resource and a bound function each time, on the path from a
    // completion to the next submission.
    settledPromise.then(this.flushBound);
  }

  private writeRecord(index: number, slot: number, request: IoRequest): void {
    const base = index * recordInts;
    const records = this.records;
    records[base + RecordField.slot] = slot;
    records[base + RecordField.fd] = request.target.fd;
    records[base + RecordField.op] = request.op;
    records[base + RecordField.flags] =
      (request.dsync ? RequestFlags.dsync : 0) |
      (request.atomic ? RequestFlags.atomic : 0) |
      (request.linkNext ? RequestFlags.linkNext : 0) |
      (request.syncNext ? RequestFlags.syncNext : 0) |
      (request.pi !== undefined ? RequestFlags.protectionTuples : 0);
    records[base + RecordField.length] = Array.isArray(request.buffers) ? request.buffers.length : request.length;
    records[base + RecordField.memAlign] = request.target.memAlign;
    records[base + RecordField.status] = RecordStatus.ok;
    this.positions[index * recordDoubles + recordPositionDouble] = request.position;
    const guard = request.control === undefined ? undefined : request.control.guard;
    this.positions[index * recordDoubles + recordDeadlineDouble] = guard === undefined ? 0 : guard.deadline;
  }

  private flush(): void {
    this.flushScheduled = false;
    this.retryTimer = undefined;
    const count = this.batch.count;
    if (count === 0 && this.waitingHead === this.waiting.length) return;
    const consumed = this.binding.submit(count, this.batch.buffers);
    if (consumed === SubmitAnswer.forked) {
      this.abandonIfForked();
      return;
    }
    if (consumed === SubmitAnswer.closed) {
      this.failBatch(ringClosed);
      this.failWaiting(ringClosed);
      this.notifyIfIdle();
      return;
    }
    if (consumed > 0) this.idleRetries = 0;
    for (let index = 0; index < consumed; index++) {
      const slot = this.batch.slots[index]!;
      const status = this.records[index * recordInts + RecordField.status];
      if (status === RecordStatus.ok) {
        this.inflight++;
        this.counters.submitted++;
        const control = this.slotRequest[slot]!.control;
        if (control !== undefined) {
          control.state = RequestState.inFlight;
          if (control.guard !== undefined && this.records[index * recordInts + RecordField.deadlineInKernel] === 1) {
            control.guard.kernelTakesDeadline();
          }
        }
      } else {
        this.finish(slot, rejectionFor(status!, this.slotRequest[slot]!));
      }
    }
    if (consumed === count) {
      this.batch.clear();
    } else {
      this.keepUnsubmitted(consumed);
    }
    // Requests refused before submission freed their slots at once.
    if (this.freeCount > 0) this.admitWaiting();
    this.notifyIfIdle();
  }

  // The engine was full (EAGAIN, or a full submission queue). What it did not
  // take stays in its slots and goes again once completions make room. The
  // engine takes kernel chains whole, but the kernel itself can stop inside
  // one when it runs out of memory: the part it took runs as a chain, and the
  // rest, which must not start before that part has completed, fails with
  // EAGAIN (an ordered batch then names it as where the chain broke).
  private keepUnsubmitted(consumed: number): void {
    const base = (consumed - 1) * recordInts;
    let cut =
      consumed > 0 &&
      this.records[base + RecordField.status] === RecordStatus.ok &&
      (this.records[base + RecordField.flags]! & RequestFlags.linkNext) !== 0;
    const remaining = this.batch.takeSlots(consumed);
    for (const slot of remaining) {
      const request = this.slotRequest[slot]!;
      if (cut) {
        cut = request.linkNext;
        this.finish(slot, systemErrorFor(this.engine)(request));
      } else {
        this.appendToBatch(slot, request);
      }
    }
    if (this.inflight > 0) return; // a completion will make room and flush again
    if (this.idleRetries >= maxIdleRetries) {
      this.failBatch(systemErrorFor(this.engine));
      this.idleRetries = 0;
      this.admitWaiting();
      this.notifyIfIdle();
      return;
    }
    // Nothing in flight means no completion will come to wake us: poll, backing off.
    this.flushScheduled = true;
    this.retryTimer = setTimeout(this.flushBound, Math.min(2 ** this.idleRetries++, 100));
  }

  private failBatch(errorFor: (request: IoRequest) => AioError): void {
    const slots = this.batch.takeSlots();
    for (const slot of slots) this.finish(slot, errorFor(this.slotRequest[slot]!));
  }

  /** The occupied slots that are not in the batch: the requests native code holds. */
  private inflightSlots(): number[] {
    const batched = new Set(this.batch.slots.subarray(0, this.batch.count));
    const slots: number[] = [];
    for (let slot = 0; slot < this.depth; slot++) if (this.slotRequest[slot] !== undefined && !batched.has(slot)) slots.push(slot);
    return slots;
  }

  private failInflight(slots: number[], errorFor: (request: IoRequest) => AioError): void {
    for (const slot of slots) {
      this.inflight--;
      this.finish(slot, errorFor(this.slotRequest[slot]!));
    }
  }

  private failWaiting(errorFor: (request: IoRequest) => AioError): void {
    const waiting = this.waiting.slice(this.waitingHead);
    this.waiting = [];
    this.waitingHead = 0;
    for (const request of waiting) settle(request, errorFor(request));
  }

  private onComplete(count: number): void {
    const completions = this.completions;
    const latencyStats = this.latencyStats;
    for (let i = 0; i < count; i++) {
      const slot = completions[i * completionInts + CompletionField.slot]!;
      const result = completions[i * completionInts + CompletionField.result]!;
      const request = this.slotRequest[slot]!;
      if (result === CompletionResult.deadlinePassed) {
        this.deadlinePassed(request);
        continue;
      }
      this.inflight--;
      this.counters.completed++;
      // Native code timed it with the clock readings it takes anyway (contract.h).
      if (latencyStats) this.latency.record(request.op, this.completionLatencies[i * completionDoubles + completionLatencyDouble]!);
      if (request.control !== undefined && request.control.abandoned) {
        this.release(slot, request, result);
      } else if (result >= 0) {
        this.countTransferred(request, result);
        this.finish(slot, result);
      } else if (result === CompletionResult.integrityFault) {
        this.finish(slot, this.integrityFailure(slot, request));
      } else {
        this.finish(slot, completionError(-result, request, this.engine));
      }
    }
    this.admitWaiting();
    if (this.batch.count > 0) this.scheduleFlush();
    this.notifyIfIdle();
  }

  // The kernel's timer for the request's deadline fired and asked the kernel
  // to cancel it: reject now; the slot and its buffers stay until the
  // request's own completion, which says whether the cancel was honoured.
  private deadlinePassed(request: IoRequest): void {
    const control = request.control!;
    if (control.abandoned || control.state === RequestState.settled) return;
    this.counters.cancelled++;
    this.counters.cancelsAsked++;
    this.counters.linkTimeoutsFired++;
    control.abandoned = true;
    control.cancelAsked = true;
    settleOutcome(request, control.guard!.timedOut());
    this.notifyIfIdle();
  }

  private integrityFailure(slot: number, request: IoRequest): AioError {
    const faults = this.binding.takeIntegrityFaults(slot);
    const interval = request.target.integrity!.interval;
    return integrityError(positionedFaults(faults, interval, request.position), context(request, this.engine));
  }

  private admitWaiting(): void {
    while (this.freeCount > 0 && this.waitingHead < this.waiting.length) {
      const next = this.waiting[this.waitingHead]!;
      this.waiting[this.waitingHead++] = undefined!;
      this.place(next);
    }
    if (this.waitingHead === this.waiting.length && this.waitingHead > 0) {
      this.waiting = [];
      this.waitingHead = 0;
    }
  }

  // The completion of a request whose promise was rejected when it was
  // cancelled: only now may its slot, and the buffers it holds, go.
  private release(slot: number, request: IoRequest, result: number): void {
    // One the kernel had handed to a worker thread of its own is stopped by a signal there: EINTR.
    if ((result === -ecanceled || result === -eintr) && request.control!.cancelAsked) this.counters.cancelsHonoured++;
    if (result > 0) this.countTransferred(request, result);
    if (result === CompletionResult.integrityFault) this.binding.takeIntegrityFaults(slot);
    this.finish(slot, result);
  }

  /** Adds a completed transfer's bytes to stats()' read or written count. */
  private countTransferred(request: IoRequest, bytes: number): void {
    if (request.op === OpCodes.read || request.op === OpCodes.readv) this.counters.bytesRead += bytes;
    else if (isWrite(request)) this.counters.bytesWritten += bytes;
  }

  private finish(slot: number, outcome: number | AioError): void {
    const request = this.slotRequest[slot]!;
    this.slotRequest[slot] = undefined;
    this.freeSlots[this.freeCount++] = slot;
    // An abandoned request's promise settled when it was cancelled.
    if (request.control !== undefined && request.control.abandoned) request.target.requestSettled();
    else settle(request, outcome);
  }

  // The one call a sync group makes. Its target stands for the file but counts
  // nothing: each member was counted on the file, and settles on its own.
  private issueSync(first: IoRequest, op: number, done: (outcome: number | AioError) => void): IoRequest {
    const file = first.target;
    const target = { fd: file.fd, path: file.path, memAlign: file.memAlign, writable: file.writable, integrity: file.integrity, requestSettled: ignore };
    const call = newRequest(target, op, undefined, 0, 0, false, undefined);
    call.resolve = done;
    call.reject = done;
    call.control = newControl();
    this.admit(call);
    return call;
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length === 0 || !this.idle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

function settle(request: IoRequest, outcome: number | AioError): void {
  settleOutcome(request, outcome);
  request.target.requestSettled();
}

/** Delivers the outcome to the request's promise or batch entry. */
function settleOutcome(request: IoRequest, outcome: number | AioError): void {
  const control = request.control;
  if (control !== undefined) {
    control.state = RequestState.settled;
    control.guard?.dispose();
  }
  const batch = request.batch;
  if (batch !== undefined) {
    batch.results[request.index] = outcome;
    if (batch.onSettled !== undefined) batch.onSettled(request.index, outcome);
    if (--batch.remaining === 0 && !batch.failed) batch.resolve(batch.results);
  } else if (typeof outcome === 'number') {
    request.resolve!(outcome);
  } else {
    request.reject!(outcome);
  }
}

function ignore(): void {}

/** A group call's outcome as one member sees it: an error names the member's own op. */
function memberOutcome(outcome: number | AioError, member: IoRequest, engine: EngineName): number | AioError {
  if (typeof outcome === 'number' || outcome.errno === undefined) return outcome;
  return systemError(outcome.errno, outcome.syscall ?? opNames[member.op]!, context(member, engine));
}

function context(request: IoRequest, engine?: string) {
  const op = opNames[request.op]!;
  const transfers = request.buffers !== undefined;
  return {
    op,
    path: request.target.path,
    ...(transfers ? { position: request.position, length: request.length } : {}),
    ...(engine ? { engine } : {}),
  };
}

// How many sync calls one file may have in flight at once (SyncCoalescer's
// callsInFlight). Overlapping calls cost a flush each, but let writes that
// completed during a call start the next call at once instead of waiting for
// it. That pays on io_uring, whose completions reach JS only once the ring's
// thread enters the kernel, and not on libaio or the thread pool (README,
// "Durable writes", has the measurements). A sync that an ordered batch asks
// for right after a write keeps to one call on every engine: that write ran
// where its completion arrives soonest (RequestFlags.syncNext; on io_uring,
// Linux AIO), so overlapping calls would only cost flushes.
export const syncCallsInFlight: Record<EngineName, number> = { libaio: 1, io_uring: 3, threadpool: 1 };

// With nothing in flight, an engine that still takes nothing after this many
// backed-off retries (about three seconds) is not going to: fail the requests
// rather than leave their promises pending forever.
export const maxIdleRetries = 36;
const submitSyscalls: Record<EngineName, string> = { libaio: 'io_submit', io_uring: 'io_uring_enter', threadpool: 'submit' };
const eagain = 11;

const eintr = 4;
const ebadf = 9;
const ecanceled = 125;

function completionError(errno: number, request: IoRequest, engine: EngineName): AioError {
  const error = systemError(errno, opNames[request.op]!, context(request, engine));
  if (errno === ebadf && !request.target.writable) error.message += notWritableAdvice;
  return error;
}

/** Appended to EBADF's message when the request needed a file opened for writing. */
export const notWritableAdvice = ': the file was opened without write: true (ring.open(path, { write: true }))';

function systemErrorFor(engine: EngineName) {
  return (request: IoRequest) => systemError(eagain, submitSyscalls[engine], context(request, engine));
}

function ringForked(request: IoRequest): AioError {
  return forkedError(context(request));
}

function ringClosed(request: IoRequest): AioError {
  return closedError('ring', context(request));
}

function rejectionFor(status: number, request: IoRequest): AioError {
  if (status === RecordStatus.misaligned) {
    return libraryError(
      LibraryCodes.alignment,
      `buffer memory must start on a ${request.target.memAlign}-byte boundary for direct I/O on this file; allocate it with allocAligned()`,
      context(request),
    );
  }
  if (status === RecordStatus.notStarted) {
    const error = systemError(ecanceled, opNames[request.op]!, context(request));
    error.message += ': not started because an op before it in its kernel chain was refused';
    return error;
  }
  return libraryError(LibraryCodes.buffer, 'buffer is smaller than the transfer, empty, or detached', context(request));
}

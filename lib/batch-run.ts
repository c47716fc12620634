// Running one ring.submit() batch: its entries settle into one results array;
// `ordered` starts each entry only once the one before it has succeeded and
// cancels the rest of the chain when one fails; `signal` and `timeoutMs`
// cancel every entry not yet settled and reject the batch as a whole.
//
// Where the engine runs chains in the kernel (io_uring), consecutive ordered
// entries go to it as one linked run, with no turn through JS between them. A
// run ends before a sync (syncs go through the dispatcher's own path, where
// concurrent ones on a file can share a call), after an entry on an
// integrity-protected file (its read is verified after the kernel is done, too
// late to stop a kernel chain), and at the free slots; the next run starts
// once the last has completed. Elsewhere the next entry is held back in JS.
// A write followed by an fdatasync of its file, alone or ending a run, can
// carry RWF_DSYNC instead, where that does all the fdatasync would
// (datasyncFusesInto); the fdatasync then settles with it.
import { AbortError, CancelGuard } from './cancellation';
import { type BatchState, Dispatcher, type IoRequest, RequestState, isSync, isWrite, newControl } from './dispatcher';
import { AioError, systemError } from './errors';
import type { AioFile } from './file';
import { requestContext } from './file';
import { OpCodes } from './native-contract';

export interface BatchRunOptions {
  signal: AbortSignal | undefined;
  timeoutMs: number;
  ordered: boolean;
}

const ecanceled = 125;

/** Runs prepared entries (a request, or the error that stopped one being made) and resolves with one result each. */
export function runBatch(
  prepared: Array<IoRequest | AioError>,
  options: BatchRunOptions,
  dispatcherFor: (file: AioFile) => Dispatcher,
): Promise<Array<number | AioError>> {
  const count = prepared.length;
  const results = new Array<number | AioError>(count);
  if (options.signal?.aborted) return Promise.reject(new AbortError(options.signal.reason, { op: 'submit' }));
  return new Promise((resolve, reject) => {
    const cancellable = options.signal !== undefined || options.timeoutMs > 0;
    const started: Array<{ request: IoRequest; dispatcher: Dispatcher }> = [];
    let guard: CancelGuard | undefined;
    const batch: BatchState = {
      results,
      remaining: count,
      resolve(values) {
        guard?.dispose();
        resolve(values);
      },
      failed: false,
      onSettled: undefined,
    };

    const start = (index: number): void => {
      const request = prepared[index]!;
      if (request instanceof AioError) {
        results[index] = request;
        if (options.ordered) cancelRest(index, request);
        if (--batch.remaining === 0) batch.resolve(results);
        return;
      }
      const file = request.target as AioFile;
      if (file.closed) {
        prepared[index] = file.closedError(requestContext(request).op);
        start(index);
        return;
      }
      const dispatcher = dispatcherFor(file);
      track(request, index, dispatcher);
      if (options.ordered) {
        if (!fuseDatasync(index, request, dispatcher)) request.syncNext = syncWaitsFor(request, prepared[index + 1]);
        const before = prepared[index - 1];
        request.followsSyncNextWrite = before !== undefined && !(before instanceof AioError) && before.syncNext;
      }
      dispatcher.enqueue(request);
    };

    // Makes the request entry `index` of the batch, counted on its file until it settles.
    const track = (request: IoRequest, index: number, dispatcher: Dispatcher): void => {
      (request.target as AioFile).requestStarted();
      request.batch = batch;
      request.index = index;
      if (cancellable) {
        request.control = newControl();
        started.push({ request, dispatcher });
      }
    };

    // Entries after `broken` never ran; each says which entry broke the chain.
    // Those up to `settledTo` (a kernel run's) have settled already: their
    // kernel ECANCELED is replaced; the rest were never started.
    const cancelRest = (broken: number, cause: AioError | string, settledTo = broken): void => {
      if (cause instanceof AioError && fusedSync[broken + 1] === true) cause.message += ' (run with RWF_DSYNC for the fdatasync after it)';
      const culprit = prepared[broken]!;
      const what = culprit instanceof AioError ? `ops[${broken}]` : `ops[${broken}] (${describeRequest(culprit)})`;
      const why = typeof cause === 'string' ? cause : `failed with ${cause.code}`;
      for (let later = broken + 1; later < count; later++) {
        const entry = prepared[later]!;
        const context = entry instanceof AioError ? { op: entry.op ?? 'submit' } : requestContext(entry);
        const error = systemError(ecanceled, context.op, context);
        error.message += `: not started because ${what} ${why} (ordered batch)`;
        Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true });
        results[later] = error;
      }
      batch.remaining -= count - settledTo - 1;
    };

    // What breaks the chain at an entry that settled with `outcome`, if anything.
    const breakage = (index: number, outcome: number | AioError): AioError | string | undefined => {
      if (typeof outcome !== 'number') return outcome;
      const request = prepared[index] as IoRequest;
      return isShort(request, outcome) ? `transferred ${outcome} of ${request.length} bytes` : undefined;
    };

    // Entries that are an fdatasync the write before them ran as RWF_DSYNC:
    // they settle with that write and never start.
    const fusedSync: boolean[] = [];

    // Runs the write at `index` with RWF_DSYNC in place of the fdatasync after it, where that does the same.
    const fuseDatasync = (index: number, request: IoRequest, dispatcher: Dispatcher): boolean => {
      if (!datasyncFusesInto(request, prepared[index + 1])) return false;
      request.dsync = true;
      fusedSync[index + 1] = true;
      dispatcher.countFusedSync();
      return true;
    };

    // Entry `index` succeeded in full: the fdatasync fused into it settles too, then what follows starts.
    const continueAfter = (index: number): void => {
      let next = index + 1;
      if (fusedSync[next] === true) {
        results[next] = 0;
        batch.remaining--;
        next++;
      }
      if (next < count) startOrdered(next);
    };

    // The kernel run in flight (one at a time: the next starts when it has settled).
    let runFirst = -1;
    let runLast = -1;
    let unsettledInRun = 0;

    // Entries from `index` that can go to the kernel as one chain, or none.
    const kernelRun = (index: number): IoRequest[] => {
      const first = prepared[index]!;
      if (first instanceof AioError || (first.target as AioFile).closed) return [];
      const dispatcher = dispatcherFor(first.target as AioFile);
      const room = dispatcher.chainRoom();
      const run: IoRequest[] = [];
      for (let at = index; at < count && run.length < room; at++) {
        const entry = prepared[at]!;
        if (entry instanceof AioError || isSync(entry)) break;
        const file = entry.target as AioFile;
        if (file.closed || dispatcherFor(file) !== dispatcher) break;
        run.push(entry);
        if (file.integrity !== undefined) break;
      }
      return run.length > 1 ? run : [];
    };

    const startOrdered = (index: number): void => {
      const run = kernelRun(index);
      if (run.length === 0) {
        start(index);
        return;
      }
      const dispatcher = dispatcherFor(run[0]!.target as AioFile);
      runFirst = index;
      runLast = index + run.length - 1;
      unsettledInRun = run.length;
      run.forEach((request, offset) => track(request, index + offset, dispatcher));
      fuseDatasync(runLast, run[run.length - 1]!, dispatcher);
      dispatcher.enqueueChain(run);
    };

    // A kernel run has settled as a whole: the first entry that failed or came
    // up short broke it (the kernel cancelled the rest), else the next starts.
    const runSettled = (first: number, last: number): void => {
      for (let index = first; index <= last; index++) {
        const cause = breakage(index, results[index]!);
        if (cause !== undefined) {
          cancelRest(index, cause, last);
          return;
        }
      }
      continueAfter(last);
    };

    if (options.ordered) {
      batch.onSettled = (index, outcome) => {
        if (batch.failed) return;
        if (index >= runFirst && index <= runLast) {
          if (--unsettledInRun === 0) runSettled(runFirst, runLast);
          return;
        }
        const cause = breakage(index, outcome);
        if (cause !== undefined) cancelRest(index, cause);
        else continueAfter(index);
      };
    }

    guard = CancelGuard.arm(options.signal, options.timeoutMs, { op: 'submit' }, (error) => {
      batch.failed = true;
      for (const { request, dispatcher } of started) {
        if (request.control!.state !== RequestState.settled) dispatcher.withdraw(request, error);
      }
      reject(error);
    });

    if (options.ordered) startOrdered(0);
    else for (let index = 0; index < count; index++) start(index);
  });
}

// A direct write followed by a sync in an ordered batch: the sync can only be
// asked for once the write's completion has reached JS, so the engine may run
// the write where that happens soonest (on io_uring, Linux AIO).
function syncWaitsFor(request: IoRequest, next: IoRequest | AioError | undefined): boolean {
  return isWrite(request) && (request.target as AioFile).info.direct && next !== undefined && !(next instanceof AioError) && isSync(next);
}

// A direct write followed in an ordered batch by an fdatasync of its file can
// run as one write with RWF_DSYNC, which syncs once it completes: one request,
// one flush, and no turn through JS between the two. That does all the
// fdatasync would on ext4, XFS or a block device whose device flushes its
// whole cache for it (AioFile.dsyncStandsForDatasync), unless a page of the
// file waits in the page cache.
function datasyncFusesInto(request: IoRequest, next: IoRequest | AioError | undefined): boolean {
  if (!isWrite(request) || next === undefined || next instanceof AioError) return false;
  if (next.op !== OpCodes.fdatasync || next.target !== request.target) return false;
  return (request.target as AioFile).dsyncStandsForDatasync();
}

// Like io_uring's IOSQE_IO_LINK, a short read or write breaks the chain: what
// follows may depend on every byte of it.
function isShort(request: IoRequest, bytes: number): boolean {
  return !isSync(request) && bytes < request.length;
}

function describeRequest(request: IoRequest): string {
  const context = requestContext(request);
  return `${context.op} '${context.path}'${context.position !== undefined ? ` at ${context.position}` : ''}`;
}

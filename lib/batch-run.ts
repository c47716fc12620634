// Running one ring.submit() batch: its entries settle into one results array;
// `ordered` starts each entry only once the one before it has succeeded and
// cancels the rest of the chain when one fails; `signal` and `timeoutMs`
// cancel every entry not yet settled and reject the batch as a whole.
import { AbortError, CancelGuard } from './cancellation';
import { type BatchState, Dispatcher, type IoRequest, RequestState, newControl } from './dispatcher';
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
      file.requestStarted();
      request.batch = batch;
      request.index = index;
      if (cancellable) {
        request.control = newControl();
        started.push({ request, dispatcher });
      }
      dispatcher.enqueue(request);
    };

    // Entries after `broken` are never started; each says which entry broke the chain.
    const cancelRest = (broken: number, cause: AioError | string): void => {
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
      batch.remaining -= count - broken - 1;
    };

    if (options.ordered) {
      batch.onSettled = (index, outcome) => {
        if (batch.failed) return;
        const request = prepared[index] as IoRequest;
        if (typeof outcome !== 'number') cancelRest(index, outcome);
        else if (isShort(request, outcome)) cancelRest(index, `transferred ${outcome} of ${request.length} bytes`);
        else if (index + 1 < count) start(index + 1);
      };
    }

    guard = CancelGuard.arm(options.signal, options.timeoutMs, { op: 'submit' }, (error) => {
      batch.failed = true;
      for (const { request, dispatcher } of started) {
        if (request.control!.state !== RequestState.settled) dispatcher.withdraw(request, error);
      }
      reject(error);
    });

    if (options.ordered) start(0);
    else for (let index = 0; index < count; index++) start(index);
  });
}

// Like io_uring's IOSQE_IO_LINK, a short read or write breaks the chain: what
// follows may depend on every byte of it.
function isShort(request: IoRequest, bytes: number): boolean {
  return request.op !== OpCodes.fsync && request.op !== OpCodes.fdatasync && bytes < request.length;
}

function describeRequest(request: IoRequest): string {
  const context = requestContext(request);
  return `${context.op} '${context.path}'${context.position !== undefined ? ` at ${context.position}` : ''}`;
}

// AbortSignal and timeoutMs for one operation (a request, a batch, an open):
// checking the options, the errors a cancelled operation rejects with, and the
// guard that watches the signal and the deadline until the operation settles.
import { unwatchAbort, watchAbort } from './abort-watch';
import { AioError, LibraryCodes, type OperationContext, invalidArgType, libraryError, outOfRange } from './errors';

/** The options every operation takes to cancel it: see README "Cancellation and deadlines". */
export interface CancelOptions {
  /** Rejects the operation with an AbortError when the signal aborts. */
  signal?: AbortSignal;
  /** Rejects the operation with ERR_AIO_TIMEOUT after this many milliseconds (1 to 2147483647). */
  timeoutMs?: number;
}

// setTimeout's own limit: longer delays fire at once.
const maxTimeoutMs = 2 ** 31 - 1;

/** Node's AbortError, as fs and stream functions reject with it, plus the operation it stopped. */
export class AbortError extends AioError {
  constructor(reason: unknown, context: OperationContext) {
    super(`The operation was aborted (${context.op}${context.path !== undefined ? ` '${context.path}'` : ''})`, {
      ...context,
      code: 'ABORT_ERR',
    });
    this.name = 'AbortError';
    Object.defineProperty(this, 'cause', { value: reason, writable: true, configurable: true });
  }
}

export function timeoutError(timeoutMs: number, context: OperationContext): AioError {
  return libraryError(LibraryCodes.timeout, `the operation did not complete within timeoutMs (${timeoutMs} ms)`, context);
}

export function checkSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || typeof (value as AbortSignal).aborted !== 'boolean' || !('addEventListener' in value)) {
    throw invalidArgType(`The "${name}" option must be an AbortSignal. Received ${value === null ? 'null' : typeof value}`);
  }
  return value as AbortSignal;
}

export function checkTimeoutMs(name: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number') {
    throw invalidArgType(`The "${name}" option must be of type number. Received ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < 1 || value > maxTimeoutMs) {
    throw outOfRange(`The value of "${name}" is out of range. It must be an integer >= 1 and <= ${maxTimeoutMs}. Received ${value}`);
  }
  return value;
}

/** Milliseconds on process.hrtime()'s clock (libuv's uv_hrtime, CLOCK_MONOTONIC), which native code reads too. */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

/**
 * Watches one operation's signal and deadline. `cancel` runs at most once, with
 * the AbortError or the timeout error; dispose() when the operation settles.
 * An engine that enforces deadlines in the kernel (io_uring) can take the
 * deadline over: the guard's timer stops, and the engine reports the deadline
 * passing (timedOut()).
 */
export class CancelGuard {
  /** When the operation times out, in monotonicMs(); 0 without timeoutMs. */
  readonly deadline: number;
  private timer: NodeJS.Timeout | undefined;
  private listener: (() => void) | undefined;
  private signal: AbortSignal | undefined;

  /** A guard, or undefined when neither option is set (the common case costs nothing). */
  static arm(signal: AbortSignal | undefined, timeoutMs: number, context: OperationContext, cancel: (error: AioError) => void): CancelGuard | undefined {
    if (signal === undefined && timeoutMs === 0) return undefined;
    return new CancelGuard(signal, timeoutMs, context, cancel);
  }

  private constructor(
    signal: AbortSignal | undefined,
    private readonly timeoutMs: number,
    private readonly context: OperationContext,
    cancel: (error: AioError) => void,
  ) {
    const fire = (error: AioError) => {
      this.dispose();
      cancel(error);
    };
    if (signal !== undefined) {
      this.signal = signal;
      this.listener = () => fire(new AbortError(signal.reason, context));
      watchAbort(signal, this.listener);
    }
    this.deadline = timeoutMs > 0 ? monotonicMs() + timeoutMs : 0;
    if (timeoutMs > 0) {
      this.timer = setTimeout(() => fire(timeoutError(timeoutMs, context)), timeoutMs);
      // A deadline alone must not keep the process alive; the request in flight does.
      this.timer.unref();
    }
  }

  /** The engine enforces the deadline from now on: stop timing it here. */
  kernelTakesDeadline(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The engine reported the deadline passing: the error to settle with; the guard is done. */
  timedOut(): AioError {
    this.dispose();
    return timeoutError(this.timeoutMs, this.context);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.listener !== undefined) unwatchAbort(this.signal!, this.listener);
    this.timer = undefined;
    this.listener = undefined;
  }
}

/** The AbortError for a signal that had aborted before the operation began. */
export function abortedAlready(signal: AbortSignal | undefined, context: OperationContext): AioError | undefined {
  return signal?.aborted ? new AbortError(signal.reason, context) : undefined;
}

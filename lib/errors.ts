import * as util from 'node:util';
import type { AioErrorDetails, IntegrityFault, IntegrityFaultKind, OpName } from './types';

/** Codes of the library's own rejections; kernel failures use the errno name (EIO, ENOSPC, ...). */
export const LibraryCodes = {
  alignment: 'ERR_AIO_ALIGNMENT',
  closed: 'ERR_AIO_CLOSED',
  forked: 'ERR_AIO_FORKED',
  engineUnavailable: 'ERR_AIO_ENGINE_UNAVAILABLE',
  buffer: 'ERR_AIO_BUFFER',
  foreignFile: 'ERR_AIO_FOREIGN_FILE',
  logReadOnly: 'ERR_AIO_LOG_READ_ONLY',
  logCorrupt: 'ERR_AIO_LOG_CORRUPT',
  logFailed: 'ERR_AIO_LOG_FAILED',
  logLocked: 'ERR_AIO_LOG_LOCKED',
  buffersRegistered: 'ERR_AIO_BUFFERS_REGISTERED',
  integrity: 'ERR_AIO_INTEGRITY',
  timeout: 'ERR_AIO_TIMEOUT',
  atomic: 'ERR_AIO_ATOMIC',
} as const;

/** Every failure the library reports: kernel errors and its own rejections alike. */
export class AioError extends Error {
  readonly code: string;
  readonly errno?: number;
  readonly syscall?: string;
  readonly op?: OpName;
  readonly position?: number;
  readonly length?: number;
  readonly path?: string;
  readonly engine?: string;
  /** ERR_AIO_INTEGRITY: the failed check of the first bad interval. */
  readonly kind?: IntegrityFaultKind;
  /** ERR_AIO_INTEGRITY: the first bad interval's index (its byte position is `position`). */
  readonly interval?: number;
  readonly expected?: number | bigint;
  readonly actual?: number | bigint;
  /** ERR_AIO_INTEGRITY: every bad interval of the request, first one included. */
  readonly faults?: IntegrityFault[];

  constructor(message: string, details: AioErrorDetails) {
    super(message);
    this.name = 'AioError';
    this.code = details.code;
    if (details.errno !== undefined) this.errno = details.errno;
    if (details.syscall !== undefined) this.syscall = details.syscall;
    if (details.op !== undefined) this.op = details.op;
    if (details.position !== undefined) this.position = details.position;
    if (details.length !== undefined) this.length = details.length;
    if (details.path !== undefined) this.path = details.path;
    if (details.engine !== undefined) this.engine = details.engine;
    if (details.integrity !== undefined) {
      const { first, faults } = details.integrity;
      this.kind = first.kind;
      this.interval = first.interval;
      this.position = first.position;
      this.expected = first.expected;
      this.actual = first.actual;
      this.faults = faults;
    }
  }
}

export interface OperationContext {
  op: OpName;
  path?: string;
  position?: number;
  length?: number;
  engine?: string;
}

const systemErrors = util.getSystemErrorMap();

function describeOperation(context: OperationContext): string {
  let text = `${context.op}`;
  if (context.path !== undefined) text += ` '${context.path}'`;
  if (context.position !== undefined) text += ` at position ${context.position}`;
  if (context.length !== undefined) text += ` (${context.length} bytes)`;
  return text;
}

/** Builds the error for a failed system call, named the way Node names its own. */
export function systemError(errno: number, syscall: string, context: OperationContext): AioError {
  const negative = errno > 0 ? -errno : errno;
  const [code, description] = systemErrors.get(negative) ?? [`E${-negative}`, 'unknown error'];
  return new AioError(`${code}: ${description}, ${describeOperation(context)}`, {
    ...context,
    code,
    errno: negative,
    syscall,
  });
}

export function libraryError(code: string, message: string, context?: OperationContext): AioError {
  const suffix = context ? ` (${describeOperation(context)})` : '';
  return new AioError(`${message}${suffix}`, { ...context, code });
}

/** Wraps an error thrown by node:fs so callers only ever see AioError. */
export function fromNodeError(error: NodeJS.ErrnoException, context: OperationContext): AioError {
  if (typeof error.errno === 'number') return systemError(error.errno, error.syscall ?? context.op, context);
  return new AioError(error.message, { ...context, code: error.code ?? 'EIO' });
}

/** ERR_AIO_CLOSED: a request made after close() on the ring, the file or the log. */
export function closedError(closed: 'ring' | 'file' | 'log', context: OperationContext): AioError {
  return libraryError(LibraryCodes.closed, `the ${closed} is closed`, context);
}

/** ERR_AIO_FORKED: a ring used in a process it was not made in. */
export function forkedError(context: OperationContext): AioError {
  return libraryError(LibraryCodes.forked, 'this ring was created in another process; rings cannot be used across fork()', context);
}

// Argument errors, made the way Node's own APIs make them: the class and code
// say what kind of mistake it was.

/** ERR_INVALID_ARG_TYPE: an argument or option of the wrong type. */
export function invalidArgType(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

/**
 * ERR_INVALID_ARG_VALUE: an argument or option of the right type but a value
 * not allowed; a RangeError where the value is a number outside what fits.
 */
export function invalidArgValue(message: string, kind: typeof TypeError | typeof RangeError = TypeError): TypeError {
  return Object.assign(new kind(message), { code: 'ERR_INVALID_ARG_VALUE' });
}

/** ERR_INVALID_STATE: a call the object's current state does not allow. */
export function invalidState(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_INVALID_STATE' });
}

/** ERR_OUT_OF_RANGE: a number outside the range allowed. */
export function outOfRange(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' });
}

/** ENOMEM from an allocation in the library itself, not a system call on a file. */
export function outOfMemory(message: string): Error {
  return Object.assign(new Error(message), { code: 'ENOMEM' });
}

function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}

const faultNames: Record<IntegrityFaultKind, string> = {
  guard: 'guard (checksum) mismatch: the data changed after its tuple was made',
  reference: 'reference tag mismatch: the interval belongs at another position (a misdirected write)',
  application: 'application tag mismatch',
};

/** ERR_AIO_INTEGRITY for the bad intervals of one request or buffer (at least one). */
export function integrityError(faults: IntegrityFault[], context: OperationContext): AioError {
  const first = faults[0]!;
  const more = faults.length > 1 ? `; ${faults.length - 1} more bad interval(s) in error.faults` : '';
  const message =
    `Integrity check failed: ${faultNames[first.kind]}, interval ${first.interval} at byte ${first.position}: ` +
    `expected ${hex(first.expected)}, found ${hex(first.actual)}${more} (${describeOperation(context)})`;
  return new AioError(message, { ...context, code: LibraryCodes.integrity, integrity: { first, faults } });
}

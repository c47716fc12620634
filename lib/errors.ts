import * as util from 'node:util';

/** The operations an error can be about. */
export type OpName =
  | 'read'
  | 'write'
  | 'readv'
  | 'writev'
  | 'fsync'
  | 'fdatasync'
  | 'open'
  | 'close'
  | 'registerBuffers'
  | 'stat'
  | 'truncate'
  | 'allocate'
  | 'verifyProtection'
  | 'scrub'
  | 'openLog'
  | 'append'
  | 'submit';

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
  buffersRegistered: 'ERR_AIO_BUFFERS_REGISTERED',
  integrity: 'ERR_AIO_INTEGRITY',
  timeout: 'ERR_AIO_TIMEOUT',
} as const;

/** Which check of a protection-information tuple failed. */
export type IntegrityFaultKind = 'guard' | 'reference' | 'application';

/** One interval whose tuple did not match its data. */
export interface IntegrityFault {
  kind: IntegrityFaultKind;
  /** The interval's index, counted from the start of the request (or of verifyProtection's data). */
  interval: number;
  /** The interval's first byte: a file position, or an offset into verifyProtection's data. */
  position: number;
  /** What the check computed and what the tuple holds: bigint for an nvme64 guard, else a number. */
  expected: number | bigint;
  actual: number | bigint;
}

export interface AioErrorDetails {
  code: string;
  /** Negative errno, as Node's own system errors carry it. */
  errno?: number;
  syscall?: string;
  op?: OpName;
  position?: number;
  length?: number;
  path?: string;
  engine?: string;
  /** ERR_AIO_INTEGRITY: the first bad interval and, in `faults`, every bad interval. */
  integrity?: { first: IntegrityFault; faults: IntegrityFault[] };
}

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

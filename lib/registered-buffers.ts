// ring.registerBuffers: the argument checks, the call into the ring's
// dispatcher, and its refusals turned into AioErrors.
import { markLibraryMemory } from './buffers';
import type { Dispatcher } from './dispatcher';
import { closedError, forkedError, systemError } from './errors';
import type { AioError, OperationContext } from './errors';
import type { NativeRegistration } from './native';
import { SubmitAnswer } from './native-contract';
import { checkInteger, checkMultipleOf } from './validate';

/** IORING_MAX_REG_BUFFERS: the most buffers one registration may hold. */
export const maxRegisteredBuffers = 16384;
/** The kernel refuses a registered buffer larger than 1 GiB (EFAULT). */
export const maxRegisteredBufferSize = 2 ** 30;
const pageSize = 4096;
const enomem = 12;

export function checkRegistrationArguments(count: unknown, size: unknown): void {
  checkInteger('count', count, 1, maxRegisteredBuffers);
  checkMultipleOf('size', size, pageSize, maxRegisteredBufferSize);
}

/**
 * Allocates `count` zero-filled, page-aligned buffers of `size` bytes and has
 * the dispatcher's engine register them with the kernel when it can (io_uring).
 * The arguments must have passed checkRegistrationArguments.
 */
export function registerBuffers(dispatcher: Dispatcher, count: number, size: number): NativeRegistration {
  const context: OperationContext = { op: 'registerBuffers', engine: dispatcher.engine };
  const outcome = dispatcher.registerBuffers(count, size);
  if (outcome === SubmitAnswer.forked) {
    throw forkedError(context);
  }
  if (typeof outcome === 'number') throw closedError('ring', context);
  if ('errno' in outcome) throw refusal(outcome.errno, outcome.syscall, context);
  for (const buffer of outcome.buffers) markLibraryMemory(buffer);
  return outcome;
}

function refusal(errno: number, syscall: string, context: OperationContext): AioError {
  const error = systemError(errno, syscall, context);
  if (errno === enomem && syscall === 'io_uring_register') {
    // The usual cause, and one the errno alone does not name.
    error.message +=
      '; registered buffers are locked memory, charged to RLIMIT_MEMLOCK (ulimit -l) unless the process has CAP_IPC_LOCK: ' +
      'raise the limit or register less';
  }
  return error;
}

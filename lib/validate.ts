// Argument checks that run before anything reaches native code. They throw the
// same kinds of error Node's own APIs throw: TypeError for the wrong type,
// RangeError for a value out of range, each with Node's code.
import { invalidArgType, invalidArgValue, outOfRange } from './errors';
import type { OptionKeys } from './option-keys';

/** Linux caps one read or write at this many bytes (MAX_RW_COUNT). */
export const maxTransferBytes = 0x7ffff000;
/** The kernel's IOV_MAX: the most buffers one vectored request may carry. */
export const maxVectorBuffers = 1024;

/** How a value is named in a "Received ..." message, as Node's own argument errors name it. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return `type ${typeof value} (${String(value)})`;
}

export function checkBuffer(name: string, value: unknown): ArrayBufferView {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) {
    throw invalidArgType(`The "${name}" argument must be a Buffer or TypedArray. Received ${describe(value)}`);
  }
  if (value.byteLength === 0) {
    throw outOfRange(
      `The "${name}" argument is empty (length 0${value.buffer.byteLength === 0 ? ', its ArrayBuffer may be detached' : ''}); ` +
        'a transfer needs at least one block',
    );
  }
  if (value.byteLength > maxTransferBytes) {
    throw outOfRange(`The "${name}" argument is ${value.byteLength} bytes; one transfer is at most ${maxTransferBytes}`);
  }
  return value;
}

/** Any ArrayBufferView, DataView and empty views included: for functions that only read bytes. */
export function checkView(name: string, value: unknown): ArrayBufferView {
  if (!ArrayBuffer.isView(value)) {
    throw invalidArgType(`The "${name}" argument must be an instance of Buffer, TypedArray, or DataView. Received ${describe(value)}`);
  }
  return value;
}

export function checkBigUint64(name: string, value: unknown): bigint {
  if (typeof value !== 'bigint') throw invalidArgType(`The "${name}" argument must be of type bigint. Received ${describe(value)}`);
  if (value < 0n || value > 0xffffffffffffffffn) {
    throw outOfRange(`The value of "${name}" is out of range. It must be >= 0n and <= 2n ** 64n - 1n. Received ${value}n`);
  }
  return value;
}

export function checkBufferList(name: string, value: unknown): ArrayBufferView[] {
  if (!Array.isArray(value)) throw invalidArgType(`The "${name}" argument must be an array of Buffers. Received ${describe(value)}`);
  if (value.length === 0 || value.length > maxVectorBuffers) {
    throw outOfRange(`The "${name}" argument must hold 1 to ${maxVectorBuffers} buffers. Received ${value.length}`);
  }
  let total = 0;
  const buffers = value.map((item, index) => {
    const buffer = checkBuffer(`${name}[${index}]`, item);
    total += buffer.byteLength;
    return buffer;
  });
  if (total > maxTransferBytes) {
    throw outOfRange(`The "${name}" buffers total ${total} bytes; one transfer is at most ${maxTransferBytes}`);
  }
  return buffers;
}

export function checkPosition(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalidArgType(`The "${name}" argument must be of type number. Received ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw outOfRange(`The value of "${name}" is out of range. It must be an integer >= 0 and <= 2^53 - 1. Received ${value}`);
  }
  return value;
}

export function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(`The "${name}" argument must be of type number. Received ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(`The value of "${name}" is out of range. It must be an integer >= ${min} and <= ${max}. Received ${value}`);
  }
  return value;
}

/** A fraction from 0 to 1, both included. */
export function checkFraction(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalidArgType(`The "${name}" argument must be of type number. Received ${describe(value)}`);
  if (!(value >= 0 && value <= 1)) {
    throw outOfRange(`The value of "${name}" is out of range. It must be >= 0 and <= 1. Received ${value}`);
  }
  return value;
}

export function checkMultipleOf(name: string, value: unknown, unit: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(`The "${name}" argument must be of type number. Received ${describe(value)}`);
  if (!Number.isInteger(value) || value < unit || value > max || value % unit !== 0) {
    throw outOfRange(`The value of "${name}" is out of range. It must be a multiple of ${unit} >= ${unit} and <= ${max}. Received ${value}`);
  }
  return value;
}

export function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidArgType(`The "${name}" option must be of type boolean. Received ${describe(value)}`);
  return value;
}

/** An options object (undefined is none), every key of which `keys` must know. */
export function checkOptions(name: string, value: unknown, keys: OptionKeys): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgType(`The "${name}" argument must be an object. Received ${describe(value)}`);
  }
  keys.check(name, value);
  return value as Record<string, unknown>;
}

export function checkString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidArgType(`The "${name}" argument must be a non-empty string. Received ${describe(value)}`);
  }
  return value;
}

export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw invalidArgValue(`The "${name}" option must be one of ${allowed.map((a) => `'${a}'`).join(', ')}. Received ${describe(value)}`);
  }
  return value as T;
}

// Which engine a ring runs on, and why: the selection rules and the probe.
import { Dispatcher } from './dispatcher';
import type { DispatcherOptions } from './dispatcher';
import { LibraryCodes, invalidArgValue, libraryError, systemError } from './errors';
import { native } from './native';
import { engineNames } from './native-contract';
import type { EngineAvailability, EngineChoice, EngineName } from './types';
import { checkOneOf } from './validate';

const engineChoices: readonly EngineChoice[] = ['auto', ...engineNames];

/** Reports, for each engine, whether this kernel and process can use it and why not. */
export function probeEngines(): Record<EngineName, EngineAvailability> {
  const report = {} as Record<EngineName, EngineAvailability>;
  for (const name of engineNames) report[name] = availability(name, native.probeEngine(name));
  return report;
}

function availability(name: EngineName, refusal: { errno: number; reason: string }): EngineAvailability {
  if (refusal.errno === 0) return { available: true, reason: `${name} is available` };
  const error = systemError(refusal.errno, 'probe', { op: 'open' });
  return { available: false, code: error.code, errno: error.errno!, reason: refusal.reason };
}

export interface Selection {
  dispatcher: Dispatcher;
  reason: string;
}

/** The engine asked for: the ring's option, or AIORING_ENGINE when the option is 'auto'. */
export function requestedEngine(option: unknown): EngineChoice {
  const choice = checkOneOf('engine', option ?? 'auto', engineChoices);
  if (choice !== 'auto' || process.env.AIORING_ENGINE === undefined || process.env.AIORING_ENGINE === '') return choice;
  return checkOneOf('AIORING_ENGINE', process.env.AIORING_ENGINE, engineChoices);
}

function unavailable(name: EngineName, refusal: { errno: number; reason: string }) {
  const cause = systemError(refusal.errno, 'probe', { op: 'open' });
  return Object.assign(
    libraryError(LibraryCodes.engineUnavailable, `engine '${name}' cannot be used here: ${refusal.reason}`),
    { errno: cause.errno, cause },
  );
}

/** Opens the forced engine, or throws ERR_AIO_ENGINE_UNAVAILABLE with the kernel's reason. */
export function openForced(name: EngineName, options: DispatcherOptions, why: string): Selection {
  const opened = Dispatcher.open(name, options);
  if (!(opened instanceof Dispatcher)) throw unavailable(name, opened);
  return { dispatcher: opened, reason: why };
}

/**
 * Walks `preference` in order and opens the first engine the kernel allows,
 * recording why each earlier one was passed over.
 */
export function openFirstAvailable(preference: readonly EngineName[], options: DispatcherOptions, purpose: string): Selection {
  const refused: string[] = [];
  for (const name of preference) {
    const opened = Dispatcher.open(name, options);
    if (opened instanceof Dispatcher) {
      const passedOver = refused.length ? ` (${refused.join('; ')})` : '';
      return { dispatcher: opened, reason: `${name} ${purpose}${passedOver}` };
    }
    refused.push(`${name} refused: ${opened.reason}`);
  }
  throw libraryError(LibraryCodes.engineUnavailable, `no engine can run here: ${refused.join('; ')}`);
}

/** `order` with `preferred` moved to the front, if it is in it. */
export function preferring(order: readonly EngineName[], preferred: EngineName | undefined): readonly EngineName[] {
  if (preferred === undefined || !order.includes(preferred)) return order;
  return [preferred, ...order.filter((name) => name !== preferred)];
}

/** The `prefer` option: an engine name, and only with engine 'auto' (or no engine). */
export function preferredEngine(option: unknown, engineOption: unknown): EngineName | undefined {
  if (option === undefined) return undefined;
  const preferred = checkOneOf('prefer', option, engineNames);
  if (engineOption !== undefined && engineOption !== 'auto') {
    throw invalidArgValue(`prefer applies only to engine 'auto'; engine '${String(engineOption)}' was given as well`);
  }
  return preferred;
}

/** Linux AIO first for direct I/O, io_uring when it is refused, the thread pool as the last resort. */
export const directPreference: readonly EngineName[] = ['libaio', 'io_uring', 'threadpool'];
/** Linux AIO would block the event loop on buffered files, so it is never used for them. */
export const bufferedPreference: readonly EngineName[] = ['io_uring', 'threadpool'];

// One 'abort' listener per AbortSignal, however many operations watch it.
//
// A program commonly hands one signal (its shutdown signal, say) to every
// request it makes. A listener per request would pass EventTarget's limit of
// 10 at the 11th request in flight, and Node would print a
// MaxListenersExceededWarning about a possible memory leak. The signal's one
// listener is removed as soon as nothing watches it, so a long-lived signal
// keeps nothing of the operations that have settled.

interface Watchers {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}

const watched = new WeakMap<AbortSignal, Watchers>();

/** Calls `callback` once when `signal` aborts, unless unwatchAbort() comes first. */
export function watchAbort(signal: AbortSignal, callback: () => void): void {
  let watchers = watched.get(signal);
  if (watchers === undefined) {
    const callbacks = new Set<() => void>();
    const listener = () => {
      watched.delete(signal);
      // As EventTarget does with its listeners: one that throws is reported
      // as uncaught, and the rest still run.
      for (const each of callbacks) {
        try {
          each();
        } catch (error) {
          process.nextTick(() => {
            throw error;
          });
        }
      }
    };
    watchers = { callbacks, listener };
    watched.set(signal, watchers);
    signal.addEventListener('abort', listener, { once: true });
  }
  watchers.callbacks.add(callback);
}

/** Stops watching; the signal loses its listener once no callback is left. */
export function unwatchAbort(signal: AbortSignal, callback: () => void): void {
  const watchers = watched.get(signal);
  if (watchers === undefined || !watchers.callbacks.delete(callback) || watchers.callbacks.size > 0) return;
  watched.delete(signal);
  signal.removeEventListener('abort', watchers.listener);
}

// What the stream suites watch: every request a stream makes on its file, by
// wrapping the file's own read or write method, so a test can tell which
// buffers were in flight together and when the stream stopped issuing.
import type { Readable } from 'node:stream';
import type { AioFile } from '../../lib/index';

export interface TrackedRequest {
  buffer: Uint8Array;
  position: number;
  length: number;
  issuedAt: number;
  settledAt: number | undefined;
}

export interface RequestTracker {
  requests: TrackedRequest[];
  inflight(): number;
  mostInFlight(): number;
  /** Pairs of requests that were in flight at once on overlapping memory. */
  sharedMemoryInFlight(): Array<[TrackedRequest, TrackedRequest]>;
  /** Requests on memory an earlier request had used (the stream reused a buffer). */
  reuses(): number;
  restore(): void;
}

let clock = 0;

/** Records every call to file[method] (read or write) until restore(). */
export function trackRequests(file: AioFile, method: 'read' | 'write'): RequestTracker {
  const original = file[method];
  const requests: TrackedRequest[] = [];
  let inflight = 0;
  let most = 0;
  (file as unknown as Record<string, unknown>)[method] = (buffer: Uint8Array, position: number, ...rest: unknown[]) => {
    const request: TrackedRequest = { buffer, position, length: buffer.byteLength, issuedAt: ++clock, settledAt: undefined };
    requests.push(request);
    most = Math.max(most, ++inflight);
    const settle = () => {
      request.settledAt = ++clock;
      inflight--;
    };
    return (original as (...args: unknown[]) => Promise<number>).call(file, buffer, position, ...rest).then(
      (bytes) => {
        settle();
        return bytes;
      },
      (error: unknown) => {
        settle();
        throw error;
      },
    );
  };
  const start = (r: TrackedRequest) => r.buffer.byteOffset;
  const sameMemory = (a: TrackedRequest, b: TrackedRequest) =>
    a.buffer.buffer === b.buffer.buffer && start(a) < start(b) + b.length && start(b) < start(a) + a.length;
  const overlapInTime = (a: TrackedRequest, b: TrackedRequest) =>
    a.issuedAt < (b.settledAt ?? Infinity) && b.issuedAt < (a.settledAt ?? Infinity);
  return {
    requests,
    inflight: () => inflight,
    mostInFlight: () => most,
    sharedMemoryInFlight() {
      const pairs: Array<[TrackedRequest, TrackedRequest]> = [];
      for (let i = 0; i < requests.length; i++) {
        for (let j = i + 1; j < requests.length; j++) {
          if (sameMemory(requests[i]!, requests[j]!) && overlapInTime(requests[i]!, requests[j]!)) pairs.push([requests[i]!, requests[j]!]);
        }
      }
      return pairs;
    },
    reuses() {
      // Several buffers may be parts of one ArrayBuffer: reuse is memory an earlier request covered.
      return requests.filter((request, i) => requests.slice(0, i).some((earlier) => sameMemory(earlier, request))).length;
    },
    restore() {
      delete (file as unknown as Record<string, unknown>)[method];
      if (file[method] !== original) (file as unknown as Record<string, unknown>)[method] = original;
    },
  };
}

/** Every chunk a readable emits, joined. */
export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Resolves once the stream has emitted 'close'. */
export function closed(stream: Readable | NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    if ((stream as Readable).closed) resolve();
    else stream.once('close', () => resolve());
  });
}

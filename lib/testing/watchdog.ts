// The watchdog: a small detached process, one per process using the kit,
// that outlives it. Each fixture tells it, before setting up, what to undo
// (a journal of JSON lines on its stdin). When this process dies, even by
// SIGKILL, its end of the pipe closes; the watchdog sees end-of-file, undoes
// what is still recorded, newest first, and exits.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { TestkitCodes, testkitError } from './errors';

/** What the watchdog undoes; see watchdog-main.ts for how. */
export type JournalEntry =
  /** A file or directory the fixture made. */
  | { kind: 'path'; path: string }
  | { kind: 'mount'; path: string }
  | { kind: 'cgroup'; path: string; home: string }
  /** The watchdog holds the device open, so it stays attached until the read-only flag is cleared. */
  | { kind: 'readOnly'; device: string; backing: string };

interface Watchdog {
  child: ChildProcessByStdio<Writable, Readable, null>;
  waiting: Map<number, { resolve(): void; reject(error: Error): void }>;
}

let watchdog: Watchdog | undefined;
let nextId = 0;

function script(): string {
  const compiled = path.join(__dirname, 'watchdog-main.js');
  if (fs.existsSync(compiled)) return compiled;
  // Running from the TypeScript sources (the project's own tests): the build's copy.
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  const built = path.join(dir, 'dist', 'lib', 'testing', 'watchdog-main.js');
  if (!fs.existsSync(built)) throw testkitError(TestkitCodes.failed, `the watchdog script ${built} is missing: run npm run build:ts`);
  return built;
}

function start(): Watchdog {
  // cwd '/': a working directory inside a kit mount would keep it busy.
  const child = spawn(process.execPath, [script()], { cwd: '/', detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
  // A watchdog that died is noticed through 'exit'; writes to it must not throw EPIPE at the test.
  child.stdin.on('error', () => {});
  const started: Watchdog = { child, waiting: new Map() };
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const reply = JSON.parse(line) as { ack: number; error?: string };
    const waiter = started.waiting.get(reply.ack);
    started.waiting.delete(reply.ack);
    if (started.waiting.size === 0) (child.stdout as unknown as { unref(): void }).unref();
    if (reply.error) waiter?.reject(testkitError(TestkitCodes.failed, `the watchdog could not ${reply.error}`));
    else waiter?.resolve();
  });
  child.on('exit', () => {
    if (watchdog === started) watchdog = undefined;
    for (const waiter of started.waiting.values()) waiter.reject(testkitError(TestkitCodes.failed, 'the watchdog exited'));
  });
  // Neither the process nor its pipes may keep this process alive.
  child.unref();
  (child.stdin as unknown as { unref(): void }).unref();
  (child.stdout as unknown as { unref(): void }).unref();
  return started;
}

function send(message: object): Watchdog {
  watchdog ??= start();
  watchdog.child.stdin.write(`${JSON.stringify(message)}\n`);
  return watchdog;
}

/** Records what to undo should this process die; resolves once the watchdog has it (and, for readOnly, holds the device). */
export async function journal(entry: JournalEntry): Promise<number> {
  const id = ++nextId;
  const dog = send({ add: id, ...entry });
  // Waiting for the answer must keep this process alive; nothing else about the watchdog does.
  (dog.child.stdout as unknown as { ref(): void }).ref();
  await new Promise<void>((resolve, reject) => dog.waiting.set(id, { resolve, reject }));
  return id;
}

/** The entry has been undone by this process: the watchdog forgets it (and lets go of a held device). */
export function forget(id: number): void {
  if (watchdog) send({ remove: id });
}

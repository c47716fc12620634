// The watchdog process (see watchdog.ts). It reads the journal until its
// parent is gone, then undoes what the parent did not, newest first.
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import type { JournalEntry } from './watchdog';
import { removeCgroup } from './cgroup-removal';
import { unmountAndRemoveSync } from './mounts';
import { run } from './run';

interface Held {
  entry: JournalEntry;
  fd?: number;
}

const entries = new Map<number, Held>();

function reply(ack: number, error?: string): void {
  process.stdout.write(`${JSON.stringify(error ? { ack, error } : { ack })}\n`);
}

function boundTo(device: string): string | undefined {
  try {
    return fs.readFileSync(`/sys/block/${device.replace('/dev/', '')}/loop/backing_file`, 'utf8').trim().replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

function hold(id: number, entry: Extract<JournalEntry, { kind: 'readOnly' }>): void {
  const fd = fs.openSync(entry.device, 'r');
  if (boundTo(entry.device) !== entry.backing) {
    fs.closeSync(fd);
    throw new Error(`hold ${entry.device}: it is not bound to ${entry.backing}`);
  }
  entries.set(id, { entry, fd });
}

function release(held: Held): void {
  if (held.fd !== undefined) fs.closeSync(held.fd);
}

function undo(held: Held): void {
  const { entry } = held;
  switch (entry.kind) {
    case 'path':
      fs.rmSync(entry.path, { recursive: true, force: true });
      break;
    case 'mount':
      unmountAndRemoveSync(entry.path);
      break;
    case 'cgroup':
      removeCgroup(entry.path, entry.home);
      break;
    case 'readOnly':
      // Still held open, so still attached: the flag cleared now cannot reach another user of this loop number.
      if (boundTo(entry.device) === entry.backing) run('blockdev', ['--setrw', entry.device]);
      break;
  }
  release(held);
}

readline
  .createInterface({ input: process.stdin })
  .on('line', (line) => {
    const message = JSON.parse(line) as ({ add: number } & JournalEntry) | { remove: number };
    if ('remove' in message) {
      const held = entries.get(message.remove);
      entries.delete(message.remove);
      if (held) release(held);
      return;
    }
    const { add: id, ...entry } = message;
    try {
      if (entry.kind === 'readOnly') hold(id, entry);
      else entries.set(id, { entry });
      reply(id);
    } catch (error) {
      reply(id, (error as Error).message);
    }
  })
  .on('close', () => {
    for (const [id, held] of [...entries].reverse()) {
      entries.delete(id);
      try {
        undo(held);
      } catch (error) {
        process.stderr.write(`aioring/testing watchdog: could not undo ${JSON.stringify(held.entry)}: ${(error as Error).message}\n`);
      }
    }
    process.exit(0);
  });

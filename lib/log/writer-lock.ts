// A log has one writer: openLog for appending takes the lock of
// native/log/file_lock.h, which conflicts with every other open of the file,
// in this process or another. Readers take no lock and read beside the writer.
//
// The kernel drops a killed writer's lock with its last reference to the open
// file, and io_uring can hold that for some milliseconds after the process has
// exited (while it finishes the process's requests). So a refusal is final at
// once only when the holder is known to be alive: another live process (its
// sign-of-life lock names it) or a writer in this process. Otherwise the
// holder is gone and its lock about to go, and taking it is retried briefly.
import * as fs from 'node:fs';
import { LibraryCodes, libraryError, systemError } from '../errors';
import type { AioFile } from '../file';
import { native } from '../native';

const eagain = 11;
/** How long a lock whose holder has exited is waited for. */
const lingerMs = 500;
const retryMs = 2;

// The files this process has open for appending (device:inode), which the
// sign-of-life lock cannot show: a process does not see its own locks.
const heldHere = new Set<string>();

/** A writer's hold on its log's lock. */
export class WriterLock {
  private held = true;

  constructor(
    private readonly file: AioFile,
    private readonly key: string,
  ) {}

  /**
   * Releases the lock before the file closes, so the next writer can take it
   * at once. The kernel's part only while the file is open: a closed
   * descriptor's number may already name another file (and closing it let the
   * lock go anyway).
   */
  release(): void {
    if (!this.held) return;
    this.held = false;
    heldHere.delete(this.key);
    if (!this.file.closed) native.unlockLog(this.file.fd);
  }
}

/** Takes the lock, or rejects with ERR_AIO_LOG_LOCKED when a live writer holds it. */
export async function takeWriterLock(file: AioFile): Promise<WriterLock> {
  const key = fileKey(file);
  const started = Date.now();
  for (;;) {
    const errno = native.lockLog(file.fd);
    if (errno === 0) {
      heldHere.add(key);
      return new WriterLock(file, key);
    }
    if (errno !== eagain) throw systemError(errno, 'fcntl', { op: 'openLog', path: file.path });
    const holder = native.logLockHolder(file.fd);
    if (holder > 0) throw lockedError(file, `process ${holder}`);
    if (heldHere.has(key)) throw lockedError(file, 'another openLog in this process');
    if (Date.now() - started >= lingerMs) throw lockedError(file, 'an open file whose process could not be identified');
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}

function fileKey(file: AioFile): string {
  const stats = fs.fstatSync(file.fd);
  return `${stats.dev}:${stats.ino}`;
}

function lockedError(file: AioFile, holder: string): Error {
  return libraryError(
    LibraryCodes.logLocked,
    `the log is already open for appending, by ${holder}; a log has one writer at a time (open it with readOnly: true to read it beside the writer)`,
    { op: 'openLog', path: file.path },
  );
}

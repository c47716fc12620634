// A log has one writer: openLog for appending takes an exclusive OFD lock on
// the whole file (native/log/file_lock.h). It conflicts with every other open
// file, in this process or another, and the kernel drops it when the holder's
// descriptor closes, so a writer killed with SIGKILL leaves no stale lock.
// Readers take no lock and read beside the writer.
import { LibraryCodes, libraryError, systemError } from '../errors';
import type { AioFile } from '../file';
import { native } from '../native';

const eagain = 11;

/** Takes the lock, or throws ERR_AIO_LOG_LOCKED when another open file holds it. */
export function takeWriterLock(file: AioFile): void {
  const errno = native.lockLog(file.fd);
  if (errno === 0) return;
  if (errno === eagain) {
    throw libraryError(
      LibraryCodes.logLocked,
      'the log is already open for appending, by another openLog in this process or in another process; ' +
        'a log has one writer at a time (open it with readOnly: true to read it beside the writer)',
      { op: 'openLog', path: file.path },
    );
  }
  throw systemError(errno, 'fcntl', { op: 'openLog', path: file.path });
}

/**
 * Releases the lock before the file closes, so the next writer can open the
 * log at once: the kernel may keep a closed file open a little longer (an
 * io_uring table entry is dropped only once its last request is done).
 * Only while the file is open: a closed descriptor's number may already name
 * another file.
 */
export function releaseWriterLock(file: AioFile): void {
  if (!file.closed) native.unlockLog(file.fd);
}

// Every fixture still set up is listed here, so that whatever a test left
// behind is undone when the process exits, newest first, even after an
// uncaught exception. Process death that runs no exit handler (SIGKILL) is
// the watchdog's job (watchdog.ts).

export interface Fixture {
  /** What it is, for the message when undoing it fails. */
  readonly label: string;
  /** Undoes the fixture without waiting on the event loop (the exit handler cannot). */
  undoSync(): void;
}

const live = new Set<Fixture>();
let hooked = false;

function undoAll(): void {
  for (const fixture of [...live].reverse()) {
    live.delete(fixture);
    try {
      fixture.undoSync();
    } catch (error) {
      process.stderr.write(`aioring/testing: could not undo ${fixture.label} at exit: ${(error as Error).message}\n`);
    }
  }
}

export function register(fixture: Fixture): void {
  if (!hooked) {
    process.on('exit', undoAll);
    hooked = true;
  }
  live.add(fixture);
}

export function unregister(fixture: Fixture): void {
  live.delete(fixture);
}

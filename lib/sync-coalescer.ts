// Sync coalescing (group commit): concurrent fsync/fdatasync requests on one
// file share one system call instead of each flushing the device's cache.
//
// A sync must cover every write that completed before it was asked for, so a
// request may join only a group whose call has not yet been handed to the
// engine. A request opens a group of its own only while its file has fewer
// than `callsInFlight` calls issued (a limit each request may set for itself);
// otherwise it gathers in the file's one next group, issued as soon as a call
// completes. Every member of a group settles with its call's outcome.
// fsync covers fdatasync, so a group holding an fsync issues fsync.
import { OpCodes } from './native-contract';

/** What the coalescer reads of a sync request: the file it is on, and fsync or fdatasync. */
export interface SyncRequest {
  readonly target: object;
  readonly op: number;
}

/** How the coalescer reaches the engine; `Call` is the one request a group issues. */
export interface SyncPort<Request extends SyncRequest, Call> {
  /** Queues the group's call (`op` for the file of `first`); `done` runs once with its outcome. */
  issue(first: Request, op: number, done: (outcome: unknown) => void): Call;
  /** Whether the call has been handed to the engine, after which its sync may have begun. */
  started(call: Call): boolean;
  /** Delivers the call's outcome to one member. */
  settle(member: Request, outcome: unknown): void;
}

interface Group<Request, Call> {
  op: number;
  members: Request[];
  /** Unset only while issue() runs. */
  call: Call | undefined;
}

interface FileSyncs<Request, Call> {
  /** Issued, oldest first: their calls are queued or in flight. */
  issued: Array<Group<Request, Call>>;
  /** Waits for an issued call to complete. */
  next: Group<Request, Call> | undefined;
}

export class SyncCoalescer<Request extends SyncRequest, Call> {
  // Only files with a sync outstanding have an entry.
  private readonly files = new Map<object, FileSyncs<Request, Call>>();

  /**
   * `callsInFlight` says, for each request that asks, how many calls (at
   * least 1) its file may have issued for it to open one more: each call
   * covers only what completed before it was issued, so a second can start
   * while the first runs, for engines whose writes are slow to report their
   * completion.
   */
  constructor(
    private readonly port: SyncPort<Request, Call>,
    private readonly callsInFlight: (request: Request) => number = () => 1,
  ) {}

  /** Takes a sync request; true when it joined a group another request opened, so it makes no call of its own. */
  add(request: Request): boolean {
    let syncs = this.files.get(request.target);
    if (syncs === undefined) {
      syncs = { issued: [], next: undefined };
      this.files.set(request.target, syncs);
    } else {
      const latest = syncs.issued[syncs.issued.length - 1];
      if (latest !== undefined && !this.started(latest) && covers(latest.op, request.op)) {
        latest.members.push(request);
        return true;
      }
    }
    if (syncs.next === undefined && syncs.issued.length < this.callsInFlight(request)) {
      this.issue(request.target, syncs, newGroup(request));
      return false;
    }
    const next = syncs.next;
    if (next === undefined) {
      syncs.next = newGroup(request);
      return false;
    }
    next.members.push(request);
    if (request.op === OpCodes.fsync) next.op = OpCodes.fsync;
    return true;
  }

  /**
   * Takes a member out of its group (it was cancelled); false if it is in none.
   * A next group left empty is dropped; an issued one's call still runs.
   */
  leave(request: Request): boolean {
    const syncs = this.files.get(request.target);
    if (syncs === undefined) return false;
    for (const group of syncs.issued) if (remove(group.members, request)) return true;
    const next = syncs.next;
    if (next === undefined || !remove(next.members, request)) return false;
    if (next.members.length === 0) syncs.next = undefined;
    return true;
  }

  private started(group: Group<Request, Call>): boolean {
    return group.call === undefined || this.port.started(group.call);
  }

  private issue(target: object, syncs: FileSyncs<Request, Call>, group: Group<Request, Call>): void {
    syncs.issued.push(group);
    group.call = this.port.issue(group.members[0]!, group.op, (outcome) => this.complete(target, syncs, group, outcome));
  }

  private complete(target: object, syncs: FileSyncs<Request, Call>, group: Group<Request, Call>, outcome: unknown): void {
    syncs.issued.splice(syncs.issued.indexOf(group), 1);
    // The next group goes first: a member settled below that asks for another
    // sync (the next entry of an ordered batch) may still join it.
    const next = syncs.next;
    if (next !== undefined) {
      syncs.next = undefined;
      this.issue(target, syncs, next);
    } else if (syncs.issued.length === 0) {
      this.files.delete(target);
    }
    for (const member of group.members) this.port.settle(member, outcome);
  }
}

function newGroup<Request extends SyncRequest, Call>(first: Request): Group<Request, Call> {
  return { op: first.op, members: [first], call: undefined };
}

/** Whether a call of `issued` makes a request for `asked` durable too. */
function covers(issued: number, asked: number): boolean {
  return issued === OpCodes.fsync || asked === OpCodes.fdatasync;
}

function remove<T>(list: T[], item: T): boolean {
  const at = list.indexOf(item);
  if (at < 0) return false;
  list.splice(at, 1);
  return true;
}

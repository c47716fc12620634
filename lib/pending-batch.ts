// The requests one flush will hand to native code: their slots in order, and
// the buffers native code looks up for them, also in order. Both are made once
// and reused from flush to flush, so a flush neither allocates nor resizes.

export class PendingBatch {
  /** Slots of the batched requests; entry i goes with shared record i. */
  readonly slots: Int32Array;
  count = 0;
  /** Buffers of the batched requests in record order (readv/writev add several). */
  readonly buffers: Array<ArrayBufferView | undefined>;
  private bufferCount = 0;

  constructor(depth: number) {
    this.slots = new Int32Array(depth);
    this.buffers = new Array<ArrayBufferView | undefined>(depth).fill(undefined);
  }

  /** `tuples` (a protected file's separate layout) goes after the request's own buffers. */
  add(slot: number, buffers: ArrayBufferView | ArrayBufferView[] | undefined, tuples?: ArrayBufferView): void {
    this.slots[this.count++] = slot;
    if (buffers === undefined) return;
    if (Array.isArray(buffers)) {
      for (const buffer of buffers) this.buffers[this.bufferCount++] = buffer;
    } else {
      this.buffers[this.bufferCount++] = buffers;
    }
    if (tuples !== undefined) this.buffers[this.bufferCount++] = tuples;
  }

  /** Empties the batch, dropping its buffer references so they do not outlive their requests. */
  clear(): void {
    // A loop, not Array.prototype.fill, which is a call into the runtime.
    for (let i = 0; i < this.bufferCount; i++) this.buffers[i] = undefined;
    this.count = 0;
    this.bufferCount = 0;
  }

  /** Empties the batch and returns the slots it held from `start` on. */
  takeSlots(start = 0): number[] {
    const slots = Array.from(this.slots.subarray(start, this.count));
    this.clear();
    return slots;
  }
}

// Reproducible randomness for the device suites: every suite prints its seed,
// and AIORING_TEST_SEED replays a failing run.

export interface Random {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** Fills `bytes` with pseudo-random data. */
  fill(bytes: Uint8Array): Uint8Array;
  shuffle<T>(items: T[]): T[];
}

export function seededRandom(seed: number = defaultSeed()): Random {
  let state = seed >>> 0;
  const word = (): number => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const random: Random = {
    seed,
    next: () => word() / 2 ** 32,
    int: (min, max) => min + Math.floor((word() / 2 ** 32) * (max - min + 1)),
    fill(bytes) {
      const whole = bytes.byteLength & ~3;
      if (bytes.byteOffset % 4 === 0) {
        const words = new Uint32Array(bytes.buffer, bytes.byteOffset, whole / 4);
        for (let i = 0; i < words.length; i++) words[i] = word();
      } else {
        for (let i = 0; i < whole; i++) bytes[i] = word() & 0xff;
      }
      for (let i = whole; i < bytes.byteLength; i++) bytes[i] = word() & 0xff;
      return bytes;
    },
    shuffle(items) {
      for (let i = items.length - 1; i > 0; i--) {
        const j = random.int(0, i);
        [items[i], items[j]] = [items[j]!, items[i]!];
      }
      return items;
    },
  };
  return random;
}

function defaultSeed(): number {
  const fromEnv = process.env.AIORING_TEST_SEED;
  if (fromEnv !== undefined && fromEnv !== '') return Number(fromEnv) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

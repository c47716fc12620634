// Exit statuses of aioring-bench (cli.ts re-exports them).

export const EXIT = { ok: 0, trialFailed: 1, usage: 2, verification: 3, barMissed: 4, interrupted: 130 } as const;

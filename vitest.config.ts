import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A crash in native code takes down one child process, not the whole run.
    pool: 'forks',
    // Some suites change machine-wide state (sysctls, loop devices); running
    // files one at a time keeps them from seeing each other's changes.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

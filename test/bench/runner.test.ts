import { describe, expect, it } from 'vitest';
import { childEnv } from '../../bench/src/trial/runner';
import type { TrialSpec } from '../../bench/src/types';

const base = { driver: 'fs-promises', label: 'fs-promises' } as TrialSpec;

describe('childEnv', () => {
  it('leaves libuv at its default pool size unless the driver asks', () => {
    const env = childEnv(base, { PATH: '/bin', UV_THREADPOOL_SIZE: '64', NODE_OPTIONS: '--inspect' });
    expect(env.UV_THREADPOOL_SIZE).toBeUndefined();
    expect(env.NODE_OPTIONS).toBeUndefined();
    expect(env.PATH).toBe('/bin');
  });

  it('sets UV_THREADPOOL_SIZE for fs-promises-uv', () => {
    const env = childEnv({ ...base, driver: 'fs-promises-uv', uvThreads: 32 }, { PATH: '/bin' });
    expect(env.UV_THREADPOOL_SIZE).toBe('32');
  });
});

import { describe, expect, it } from 'vitest';
import { DRIVER_GROUPS, DRIVERS, findDriver } from '../../bench/src/drivers/registry';

const host = {
  library: { probe: { libaio: { available: true, reason: '' }, io_uring: { available: false, code: 'ENOSYS', reason: 'off' }, threadpool: { available: true, reason: '' } }, auto: 'libaio' as const, error: null },
  fio: null,
};

describe('bench drivers', () => {
  it('every registered driver implements the Driver interface, with a unique id and known groups', () => {
    const ids = DRIVERS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of DRIVERS) {
      expect(['recorder', 'self']).toContain(d.measures);
      for (const method of ['label', 'specFields', 'unavailableReason', 'run'] as const) expect(typeof d[method]).toBe('function');
      for (const g of d.groups) expect(Object.keys(DRIVER_GROUPS)).toContain(g);
      expect(d.description.length).toBeGreaterThan(0);
      if (d.measures === 'self') expect(typeof d.stop).toBe('function');
    }
  });

  it('says per driver whether it can run on a host', () => {
    expect(findDriver('aioring-libaio')!.unavailableReason(host)).toBeNull();
    expect(findDriver('aioring-io_uring-batch')!.unavailableReason(host)).toBe('io_uring unavailable: off (ENOSYS)');
    expect(findDriver('fio-libaio')!.unavailableReason(host)).toBe('fio is not installed');
    expect(findDriver('fs-promises')!.unavailableReason(host)).toBeNull();
    const noLibrary = { library: { probe: null, auto: null, error: 'aioring library not loadable (x)' }, fio: 'fio-3.33' };
    expect(findDriver('aioring-threadpool')!.unavailableReason(noLibrary)).toBe('aioring library not loadable (x)');
    expect(findDriver('fio-psync')!.unavailableReason(noLibrary)).toBeNull();
  });

  it('labels and spec fields follow the queue depth where the driver depends on it', () => {
    expect(findDriver('fs-promises-uv')!.label(64)).toBe('fs-promises-uv64');
    expect(findDriver('fs-promises-uv')!.specFields(4096)).toEqual({ uvThreads: 1024 });
    expect(findDriver('aioring-io_uring-fixed')!.specFields(8)).toEqual({ engine: 'io_uring' });
    expect(findDriver('fio-psync')!.specFields(8)).toEqual({ fioEngine: 'psync' });
    expect(findDriver('fs-promises-buffered')!.buffered).toBe(true);
    expect(findDriver('fio-libaio')!.writesPattern).toBe(false);
  });
});

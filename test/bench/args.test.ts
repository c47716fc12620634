import { describe, expect, it } from 'vitest';
import { DEFAULTS, helpText, parseArgs, UsageError } from '../../bench/src/options/args';
import { DEFAULT_APPEND_DRIVERS, DEFAULT_DRIVERS, expandDriverNames, findDriver } from '../../bench/src/drivers/registry';

describe('parseArgs: defaults', () => {
  it('no arguments give the default comparison', () => {
    const o = parseArgs([]);
    expect(o.target).toBeNull();
    expect(o.rw).toBe('randread');
    expect(o.bs).toBe(4096);
    expect(o.qd).toBe(DEFAULTS.qd);
    expect(o.runtimeS).toBe(DEFAULTS.runtimeS);
    expect(o.ops).toBeNull();
    expect(o.direct).toBe(true);
    expect(o.drivers).toEqual([...DEFAULT_DRIVERS]);
    expect(o.driversGiven).toBe(false);
    expect(o.repeat).toBe(1);
    expect(o.sweep).toBeNull();
    expect(o.allowWrite).toBe(false);
  });
});

describe('parseArgs: good input', () => {
  it('reads fio vocabulary with separate and inline values', () => {
    const o = parseArgs([
      '--target',
      '/dev/loop0',
      '--rw=randwrite',
      '--bs',
      '64k',
      '--qd=8',
      '--size',
      '1g',
      '--runtime',
      '10',
      '--drivers',
      'fs-promises,aioring-libaio-batch',
      '--json',
      'out.json',
      '--svg=out.svg',
      '--repeat',
      '3',
      '--allow-write',
    ]);
    expect(o).toMatchObject({
      target: '/dev/loop0',
      rw: 'randwrite',
      bs: 65536,
      qd: 8,
      size: 2 ** 30,
      runtimeS: 10,
      drivers: ['fs-promises', 'aioring-libaio-batch'],
      driversGiven: true,
      json: 'out.json',
      svg: 'out.svg',
      repeat: 3,
      allowWrite: true,
    });
  });

  it('accepts fio spellings --filename and --iodepth', () => {
    const o = parseArgs(['--filename', '/tmp/x', '--iodepth', '16']);
    expect(o.target).toBe('/tmp/x');
    expect(o.qd).toBe(16);
  });

  it('--ops replaces the default runtime', () => {
    const o = parseArgs(['--ops', '20k']);
    expect(o.ops).toBe(20000);
    expect(o.runtimeS).toBeNull();
  });

  it('--no-direct and --buffered turn O_DIRECT off; --direct turns it back on', () => {
    expect(parseArgs(['--no-direct']).direct).toBe(false);
    expect(parseArgs(['--buffered']).direct).toBe(false);
    expect(parseArgs(['--buffered', '--direct']).direct).toBe(true);
  });

  it('parses qd and bs sweeps', () => {
    expect(parseArgs(['--sweep', 'qd=1,8,32,128']).sweep).toEqual({ param: 'qd', values: [1, 8, 32, 128] });
    expect(parseArgs(['--sweep=bs=4k,64k,1m']).sweep).toEqual({ param: 'bs', values: [4096, 65536, 1 << 20] });
  });

  it('expands driver groups and fs-promises-uvN', () => {
    const o = parseArgs(['--drivers', 'aioring,fio,fs-promises-uv16']);
    expect(o.drivers).toEqual([
      'aioring-libaio',
      'aioring-io_uring',
      'aioring-threadpool',
      'fio-libaio',
      'fio-io_uring',
      'fio-psync',
      'fs-promises-uv16',
    ]);
    expect(findDriver('fs-promises-uv16')?.specFields(32).uvThreads).toBe(16);
    expect(findDriver('fs-promises-uv')?.specFields(32).uvThreads).toBe(32);
    expect(findDriver('fs-promises')?.specFields(32).uvThreads).toBeUndefined();
    // 'all' names every driver; parseArgs keeps those of the workload.
    expect(expandDriverNames(['all'])).toEqual([...DEFAULT_DRIVERS, ...DEFAULT_APPEND_DRIVERS]);
  });

  it('names the registered-buffer drivers, and keeps them out of the per-engine groups', () => {
    expect(findDriver('aioring-io_uring-fixed')).toMatchObject({ family: 'aioring', engine: 'io_uring', fixedBuffers: true });
    expect(findDriver('aioring-io_uring-batch-fixed')).toMatchObject({ family: 'aioring-batch', engine: 'io_uring', fixedBuffers: true });
    expect(findDriver('aioring-io_uring')).toMatchObject({ fixedBuffers: false, busyPollUs: 0 });
    expect(parseArgs(['--drivers', 'aioring-fixed']).drivers).toEqual(['aioring-io_uring-fixed', 'aioring-io_uring-batch-fixed']);
    expect(expandDriverNames(['aioring', 'aioring-batch']).filter((name) => name.endsWith('-fixed'))).toEqual([]);
    expect(expandDriverNames(['all'])).toContain('aioring-io_uring-batch-fixed');
    expect(helpText()).toMatch(/aioring-io_uring-fixed .*registerBuffers/);
  });

  it('names the busy-polling drivers, one per engine, and keeps them out of the plain aioring group', () => {
    expect(findDriver('aioring-libaio-poll')).toMatchObject({ family: 'aioring', engine: 'libaio', busyPollUs: 500 });
    expect(parseArgs(['--drivers', 'aioring-poll']).drivers).toEqual(['aioring-libaio-poll', 'aioring-io_uring-poll', 'aioring-threadpool-poll']);
    expect(expandDriverNames(['aioring']).filter((name) => name.endsWith('-poll'))).toEqual([]);
    expect(expandDriverNames(['all'])).toContain('aioring-threadpool-poll');
    expect(helpText()).toMatch(/aioring-libaio-poll .*busyPollUs/);
  });

  it('randrw takes --rwmixread', () => {
    const o = parseArgs(['--rw', 'randrw', '--rwmixread', '70']);
    expect(o.rwmixread).toBe(70);
  });

  it('--help wins', () => {
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs(['-h']).help).toBe(true);
    expect(helpText()).toMatch(/--sweep/);
    expect(helpText()).toMatch(/aioring-io_uring-batch/);
  });
});

describe('parseArgs: bad input', () => {
  it.each([
    [['--drivers', 'aioring-libaio,nope'], /unknown driver "nope"/],
    [['--drivers', 'fs-promises-uv0'], /unknown driver/],
    [['--rw', 'randomread'], /unknown --rw "randomread"/],
    [['--bs', '4q'], /--bs: .*malformed size/],
    [['--size', 'big'], /--size: .*malformed size/],
    [['--qd', '0'], /queue depth/],
    [['--qd', 'x'], /queue depth/],
    [['--qd', '100000'], /too large/],
    [['--runtime', 'soon'], /--runtime/],
    [['--runtime', '0'], /--runtime must be greater than zero/],
    [['--runtime', '5', '--ops', '100'], /--runtime or --ops, not both/],
    [['--sweep', 'iodepth=1,2'], /malformed --sweep/],
    [['--sweep', 'qd=1,1'], /repeated value/],
    [['--sweep', 'bs=4k,huge'], /--sweep bs/],
    [['--sweep', 'qd=1,8', '--qd', '4'], /contradict/],
    [['--rwmixread', '50'], /only applies to --rw randrw/],
    [['--rw', 'randrw', '--rwmixread', '150'], /0\.\.100/],
    [['--bogus'], /unknown option "--bogus"/],
    [['stray'], /unexpected argument "stray"/],
    [['--target'], /--target needs a value/],
    [['--json', '--svg', 'x.svg'], /--json needs a value/],
    [['--allow-write=yes'], /takes no value/],
    [['--repeat', '0'], /--repeat/],
  ])('%j', (argv, message) => {
    let error: unknown;
    try {
      parseArgs(argv);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('parseArgs: --stream', () => {
  it('reads or writes the region once at fio bs=1M iodepth=8 with the stream drivers and fio', () => {
    const o = parseArgs(['--rw', 'read', '--stream']);
    expect(o).toMatchObject({ stream: true, rw: 'read', bs: 2 ** 20, qd: 8, runtimeS: null, ops: null, rampS: 0 });
    expect(o.drivers).toEqual(['aioring-stream', 'fs-stream', 'fio-libaio']);
    expect(parseArgs(['--rw', 'write', '--stream', '--bs', '4m', '--qd', '16', '--drivers', 'stream'])).toMatchObject({
      bs: 4 * 2 ** 20,
      qd: 16,
      drivers: ['aioring-stream', 'fs-stream'],
    });
  });

  it('keeps the stream drivers out of the default comparison and of "all"', () => {
    expect(DEFAULT_DRIVERS).not.toContain('aioring-stream');
    expect(expandDriverNames(['all'])).not.toContain('fs-stream');
    expect(findDriver('aioring-stream')?.groups).toEqual(['stream']);
  });

  it.each([
    [['--stream'], /--stream needs --rw read or --rw write/],
    [['--stream', '--rw', 'randread'], /--stream needs --rw read/],
    [['--stream', '--rw', 'read', '--runtime', '2'], /--runtime cannot be combined/],
    [['--stream', '--rw', 'read', '--sweep', 'qd=1,8'], /--sweep cannot be combined/],
    [['--stream', '--rw', 'read', '--drivers', 'aioring-libaio'], /aioring-libaio is neither/],
    [['--rw', 'read', '--drivers', 'aioring-stream'], /runs only with --stream/],
    [['--stream', '--rw', 'read', '--suite', 'targets'], /cannot be combined/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseArgs(argv as string[])).toThrow(message as RegExp);
  });
});

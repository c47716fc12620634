// probeIntegrity on what this machine has: a regular file (the ioctl is for
// block devices; the file system answers ENOTTY) and io_uring's attribute
// support. Loop devices are probed in test/device/integrity.test.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AioError, probeIntegrity } from '../lib/index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-probe-integrity-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('probeIntegrity', () => {
  it('says a regular file has no protection information, and why', async () => {
    const file = path.join(dir, 'plain.dat');
    fs.writeFileSync(file, Buffer.alloc(4096));
    const probe = await probeIntegrity(file);
    expect(probe).toMatchObject({
      path: file,
      blockDevice: false,
      supported: false,
      code: 'ENOTTY',
      errno: -25,
      kernelIntegrity: false,
      interval: 0,
      piSize: 0,
      guard: 'none',
      format: undefined,
    });
    expect(probe.reason).toMatch(/not a block device/);
    expect(typeof probe.ioUringRwAttributes).toBe('boolean');
    expect(probe.ioUringReason).toMatch(/IORING_FEAT_RW_ATTR|could not be set up/);
  });

  it('rejects a path that does not exist with the errno, and bad arguments as Node does', async () => {
    await expect(probeIntegrity(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    await expect(probeIntegrity(path.join(dir, 'missing'))).rejects.toBeInstanceOf(AioError);
    await expect(probeIntegrity(1 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});

// Protected I/O on real block devices: loop devices with 512- and 4096-byte
// logical sectors, on every available engine. The device is first written
// whole through a protected file, then damaged by plain writes to the device
// node behind aioring's back; each damage must fail only its own request, with
// its own kind, and scrub must find exactly those intervals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring, allocAligned, probeIntegrity } from '../../lib/index';
import type { ProtectionFormat } from '../../lib/index';
import { createLoopDevice, type LoopDevice } from '../../lib/testing/index';
import { availableEngines } from '../helpers/engines';
import { openProtected, runFaultScenario } from '../helpers/protected-scenario';
import { seededRandom } from '../helpers/random';
import { rootSuiteSkipReason } from '../helpers/root';

const skipReason = rootSuiteSkipReason('protected loop-device suites');
const random = seededRandom();
if (skipReason === undefined) console.log(`device integrity: seed ${random.seed} (set AIORING_TEST_SEED to replay)`);

const sizeMiB = 4;
const formats: ProtectionFormat[] = ['t10dif', 'nvme64'];

describe.skipIf(skipReason !== undefined).each([512, 4096] as const)('loop device with %i-byte sectors', (sectorSize) => {
  let device: LoopDevice;
  beforeAll(async () => {
    device = await createLoopDevice({ sizeMiB, sectorSize });
  });
  afterAll(() => device?.close());

  it('probeIntegrity reports why the device carries no protection information', async () => {
    const probe = await probeIntegrity(device.path);
    expect(probe).toMatchObject({ blockDevice: true, supported: false, format: undefined });
    // A loop device never carries PI; on a kernel without block integrity the ioctl is refused too.
    if (probe.code !== undefined) {
      expect(probe.errno).toBeLessThan(0);
      expect(probe.reason).toMatch(/CONFIG_BLK_DEV_INTEGRITY|FS_IOC_GETLBMD_CAP/);
    } else {
      expect(probe.reason).toMatch(/no protection information/);
    }
    console.log(`probeIntegrity(${device.path}): ${probe.code ?? 'answered'}: ${probe.reason}; ${probe.ioUringReason}`);
  });

  it.each(availableEngines)('the separate layout leaves checking to aioring when the device has no PI (%s)', async (engine) => {
    const ring = new Ring({ engine, depth: 8 });
    try {
      const file = await ring.open(device.path, { write: true, integrity: { format: 't10dif', interval: 4096, layout: 'separate' } });
      expect(file.integrity?.kernelChecks).toBe(false);
      const pi = Buffer.alloc(8);
      await file.write(random.fill(allocAligned(4096)), 0, { pi });
      expect(await file.read(allocAligned(4096), 0, { pi })).toBe(4096);
      await file.close();
    } finally {
      await ring.close();
    }
  });

  it.each(availableEngines)('refuses an interval smaller than the logical block size at open (%s)', async (engine) => {
    const ring = new Ring({ engine, depth: 8 });
    try {
      const opening = ring.open(device.path, { write: true, integrity: { format: 't10dif', interval: 512 } });
      if (sectorSize === 4096) {
        await expect(opening).rejects.toMatchObject({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /logical block size \(4096 bytes\)/ });
      } else {
        await (await opening).close();
      }
    } finally {
      await ring.close();
    }
  });

  describe.each(availableEngines)('engine %s', (engine) => {
    for (const format of formats) {
      for (const interval of [512, 4096] as const) {
        if (interval < sectorSize) continue;
        it(`${format}/${interval}: each kind of damage fails only its own request; scrub finds exactly those`, async () => {
          const ring = new Ring({ engine, depth: 32 });
          try {
            // Every interval of the device gets valid tuples first, so scrub has nothing else to report.
            const whole = await openProtected(ring, device.path, format, interval, false);
            expect(whole.info.blockDevice).toBe(true);
            expect(whole.info.logicalBlockSize).toBe(sectorSize);
            await whole.write(random.fill(allocAligned(sizeMiB * 1024 * 1024)), 0);
            await whole.close();
            const base = random.int(1, 64) * 4096 * 8;
            await runFaultScenario(ring, device.path, format, interval, base, random);
          } finally {
            await ring.close();
          }
        });
      }
    }
  });
});

// Protected I/O on real block devices: loop devices with 512- and 4096-byte
// logical sectors, on every available engine. The device is first written
// whole through a protected file, then damaged by plain writes to the device
// node behind aioring's back; each damage must fail only its own request, with
// its own kind, and scrub must find exactly those intervals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring, allocAligned } from '../../lib/index';
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

// Type-checked (never run) as a CommonJS module under node16 resolution: the
// require condition's types.
import aioring = require('aioring');

const ring: aioring.Ring = new aioring.Ring({ depth: 4 });
export async function first(file: aioring.AioFile): Promise<number> {
  return file.read(aioring.allocAligned(4096), 0);
}
export { ring };
import testing = require('aioring/testing');
export const createLoopDevice: typeof testing.createLoopDevice = testing.createLoopDevice;

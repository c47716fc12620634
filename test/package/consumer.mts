// Type-checked (never run) as an ES module under node16 resolution: the
// import condition's types must give named and default imports.
import aioring, { Ring, allocAligned, probeEngines, type AioFile } from 'aioring';

const ring: Ring = new Ring({ depth: 4, engine: 'auto' });
const same: typeof Ring = aioring.Ring;
const buffer: Buffer = allocAligned(4096);
const available: boolean = probeEngines().threadpool.available;
export async function first(file: AioFile): Promise<number> {
  return file.read(buffer, 0);
}
export { ring, same, available };
export { createLoopDevice, type LoopDevice } from 'aioring/testing';

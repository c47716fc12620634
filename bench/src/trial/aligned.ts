// Page-aligned buffers for O_DIRECT. Normally aioring's allocAligned; when the
// library is not built, memory of a WebAssembly.Memory (whose base is page
// aligned) stands in, so the fs.promises driver can still be measured.

import { tryLoadAioring } from '../setup/aioring-lib';

const ALIGN = 4096;
const WASM_PAGE = 65536;

export interface AlignedAllocator {
  source: 'aioring' | 'wasm-memory';
  alloc(size: number): Buffer;
}

export function alignedAllocator(): AlignedAllocator {
  const { mod } = tryLoadAioring();
  if (mod) return { source: 'aioring', alloc: (size) => mod.allocAligned(size, ALIGN) };
  return { source: 'wasm-memory', alloc: wasmAlloc };
}

/** Each call gets its own WebAssembly.Memory, rounded up to 64 KiB pages. */
interface WasmMemoryCtor {
  new (desc: { initial: number; maximum: number }): { buffer: ArrayBuffer };
}

function wasmAlloc(size: number): Buffer {
  const pages = Math.max(1, Math.ceil(size / WASM_PAGE));
  // The tsconfig's lib has no WebAssembly types; the global is there at run time.
  const Memory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryCtor } }).WebAssembly.Memory;
  const memory = new Memory({ initial: pages, maximum: pages });
  return Buffer.from(memory.buffer, 0, size);
}

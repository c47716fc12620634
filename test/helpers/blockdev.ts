import { sh } from './root';

/** What `blockdev` says about a device, to hold the library's own answers against. */
export function blockdevInfo(device: string): { size: number; logicalBlockSize: number; physicalBlockSize: number } {
  const [size, logical, physical] = sh('blockdev', ['--getsize64', '--getss', '--getpbsz', device]).split(/\s+/).map(Number);
  return { size: size!, logicalBlockSize: logical!, physicalBlockSize: physical! };
}

// Facts about the machine recorded with every result.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MachineInfo } from '../report/results';
import { REPOSITORY_ROOT } from './aioring-lib';

function packageVersion(): string | null {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as { name?: string; version?: string };
    return pkg.name === 'aioring' ? (pkg.version ?? null) : null;
  } catch {
    return null;
  }
}

export function machineInfo(fioVersion: string | null): MachineInfo {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    os: `${os.type()} ${os.version()}`,
    arch: process.arch,
    node: process.version,
    aioringVersion: packageVersion(),
    fio: fioVersion,
  };
}

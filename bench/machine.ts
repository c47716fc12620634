// Facts about the machine recorded with every result.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MachineInfo } from './results';

function packageVersion(): string | null {
  // dist/bench/machine.js and bench/machine.ts are both two or one levels below the package root.
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, rel), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'aioring') return pkg.version ?? null;
    } catch {
      // try the next
    }
  }
  return null;
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

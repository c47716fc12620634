import * as fs from 'node:fs';

const procPath = (name: string) => `/proc/sys/${name.replace(/\./g, '/')}`;

export function readSysctl(name: string): string {
  return fs.readFileSync(procPath(name), 'utf8').trim();
}

/**
 * Runs `body` with sysctls set to the given values, restoring every one of
 * them afterwards however `body` ends.
 */
export async function withSysctls<T>(values: Record<string, string>, body: () => Promise<T> | T): Promise<T> {
  const saved = new Map<string, string>();
  try {
    for (const [name, value] of Object.entries(values)) {
      saved.set(name, readSysctl(name));
      fs.writeFileSync(procPath(name), value);
    }
    return await body();
  } finally {
    for (const [name, value] of saved) fs.writeFileSync(procPath(name), value);
  }
}

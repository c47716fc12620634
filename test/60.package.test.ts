// The package as users load it: require and import by name, and shipped types.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const publicNames = ['AioError', 'AioFile', 'AioReadStream', 'LibraryCodes', 'Ring', 'allocAligned', 'probeEngines'];

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();
}

describe('package entry points', () => {
  it('loads with require()', () => {
    const names = node(['-e', "console.log(Object.keys(require('aioring')).filter(k => k !== '__esModule').sort().join(','))"]);
    expect(names).toBe(publicNames.join(','));
  });

  it('loads with import, sharing one instance with require', () => {
    const out = node([
      '--input-type=module',
      '-e',
      "import { Ring } from 'aioring'; import { createRequire } from 'node:module'; " +
        "const cjs = createRequire(process.cwd() + '/')('aioring'); console.log(Ring === cjs.Ring, new Ring({ depth: 2 }).engine.length > 0)",
    ]);
    expect(out).toBe('true true');
  });

  it('ships declarations for every public name', () => {
    const declarations = fs.readFileSync(path.join(root, 'dist', 'lib', 'index.d.ts'), 'utf8');
    for (const name of publicNames) expect(declarations).toContain(name);
    expect(fs.existsSync(path.join(root, 'dist', 'lib', 'ring.d.ts'))).toBe(true);
  });
});

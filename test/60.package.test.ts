// The package as users load it: require and import by name, and shipped types.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const publicNames = ['AioError', 'AioFile', 'AioLog', 'AioReadStream', 'AioWriteStream', 'LibraryCodes', 'Ring', 'allocAligned', 'crc16t10dif', 'crc32c', 'crc64nvme', 'generateProtection', 'probeEngines', 'probeIntegrity', 'verifyProtection'];

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

  it('aioring/testing loads with require() and import, one instance, and stays out of the main entry', () => {
    const testingNames = ['TestkitCodes', 'createLoopDevice', 'flipBytes', 'setReadOnly', 'throttle'];
    const names = node(['-e', "console.log(Object.keys(require('aioring/testing')).filter(k => k !== '__esModule').sort().join(','))"]);
    expect(names.split(',')).toEqual(expect.arrayContaining(testingNames));
    const out = node([
      '--input-type=module',
      '-e',
      "import { createLoopDevice } from 'aioring/testing'; import * as main from 'aioring'; import { createRequire } from 'node:module'; " +
        "const cjs = createRequire(process.cwd() + '/')('aioring/testing'); console.log(createLoopDevice === cjs.createLoopDevice, 'createLoopDevice' in main)",
    ]);
    expect(out).toBe('true false');
    // Loading the main entry loads nothing of the kit.
    const loaded = node(['-e', "require('aioring'); console.log(Object.keys(require.cache).some((file) => file.includes('testing')))"]);
    expect(loaded).toBe('false');
    const declarations = fs.readFileSync(path.join(root, 'dist', 'lib', 'testing', 'index.d.ts'), 'utf8');
    for (const name of [...testingNames, 'LoopDevice', 'Throttle', 'ThrottleLimits']) expect(declarations).toContain(name);
  });

  it('ships declarations for every public name', () => {
    const declarations = fs.readFileSync(path.join(root, 'dist', 'lib', 'index.d.ts'), 'utf8');
    for (const name of publicNames) expect(declarations).toContain(name);
    expect(fs.existsSync(path.join(root, 'dist', 'lib', 'ring.d.ts'))).toBe(true);
  });

  it('types both module systems: ES-module and CommonJS consumers of aioring and aioring/testing type-check under node16', () => {
    const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
    const trace = execFileSync(tsc, ['-p', path.join('test', 'package', 'tsconfig.json'), '--traceResolution'], { cwd: root, encoding: 'utf8' });
    const resolved = [...trace.matchAll(/Module name 'aioring(?:\/testing)?' was successfully resolved to '([^']+)'/g)].map((m) => path.relative(root, m[1]));
    expect(resolved.sort()).toEqual(['dist/lib/index.d.mts', 'dist/lib/index.d.ts', 'dist/lib/testing/index.d.mts', 'dist/lib/testing/index.d.ts']);
  });
});

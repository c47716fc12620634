// The shape of lib/'s import graph: the public types are a leaf, no import
// cycle runs through lib/ (type-only imports count too), and an import that
// brings in only types says so with `import type`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const lib = path.join(root, 'lib');

describe('lib/ import graph', () => {
  it('types.ts imports nothing', () => {
    const source = fs.readFileSync(path.join(lib, 'types.ts'), 'utf8');
    // TypeScript's own scan: import and export-from statements, require() and import() calls.
    const { importedFiles } = ts.preProcessFile(source, true, true);
    expect(importedFiles.map((file) => file.fileName)).toEqual([]);
  });

  it('has no import cycles (madge --circular --extensions ts lib/)', async () => {
    const madge = (await import('madge')).default;
    const graph = await madge(lib, { fileExtensions: ['ts'] });
    expect(Object.keys(graph.obj())).toContain('types.ts');
    expect(graph.circular()).toEqual([]);
  });

  it('imports types with `import type` wherever only types are used', () => {
    // verbatimModuleSyntax reports every import of a type without `type` (TS1484).
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const options = ['--noEmit', '--strict', '--skipLibCheck', '--target', 'ES2022', '--lib', 'ES2022', '--types', 'node'];
    const moduleOptions = ['--module', 'preserve', '--moduleResolution', 'bundler', '--verbatimModuleSyntax'];
    const files = (fs.readdirSync(lib, { recursive: true }) as string[]).filter((file) => file.endsWith('.ts')).map((file) => path.join(lib, file));
    const result = spawnSync(process.execPath, [tsc, ...options, ...moduleOptions, ...files], { cwd: root, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

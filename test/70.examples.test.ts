// The examples are programs users copy: they must keep running and verifying.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');

describe.each(['wal.mjs', 'kv.mjs', 'page-store.mjs'])('examples/%s', (example) => {
  it('runs and verifies its own data', () => {
    const output = execFileSync(process.execPath, [path.join(root, 'examples', example)], { cwd: root, encoding: 'utf8' });
    expect(output).toContain('intact');
  });
});

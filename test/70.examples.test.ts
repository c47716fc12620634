// The examples are programs users copy: they must keep running and verifying.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { rootSuiteSkipReason } from './helpers/root';
import { toolSkipReason } from './helpers/tools';

const root = path.join(__dirname, '..');

describe.each(['wal.mjs', 'kv.mjs', 'page-store.mjs'])('examples/%s', (example) => {
  it('runs and verifies its own data', () => {
    const output = execFileSync(process.execPath, [path.join(root, 'examples', example)], { cwd: root, encoding: 'utf8' });
    expect(output).toContain('intact');
  });
});

describe('examples/page-store.test.mjs, the README\'s "Testing your storage code" example', () => {
  const example = fs.readFileSync(path.join(root, 'examples', 'page-store.test.mjs'), 'utf8');

  it('is in the README word for word', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Testing your storage code'));
    expect(section).toContain(`\`\`\`js\n${example}\`\`\``);
  });

  // The example makes a btrfs, so it needs btrfs-progs as well as root.
  const skipReason = rootSuiteSkipReason('running the aioring/testing example') ?? toolSkipReason('running the aioring/testing example', ['mkfs.btrfs', 'btrfs-map-logical']);
  it.skipIf(skipReason !== undefined)('passes under vitest, as a user runs it', () => {
    const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
    const config = path.join(root, 'test', 'fixtures', 'nested.vitest.config.mjs');
    const output = execFileSync(process.execPath, [vitest, 'run', '--config', config, 'examples/page-store.test.mjs'], { cwd: root, encoding: 'utf8' });
    expect(stripVTControlCharacters(output)).toMatch(/Tests\s+3 passed \(3\)/);
  });
});

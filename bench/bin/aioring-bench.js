#!/usr/bin/env node
// The aioring-bench command. A committed file rather than dist/cli.js itself,
// so npm links the command on install, before the bench is compiled.
'use strict';
try {
  require('../dist/cli.js').runCommandLine();
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && /dist[\\/]cli\.js/.test(e.message)) {
    process.stderr.write('aioring-bench: not built yet: run `npm run build:ts` in the aioring checkout\n');
    process.exit(2);
  }
  throw e;
}

// Packs the library as npm would publish it and installs the tarball the way a
// user would, into an empty project whose PATH holds node and sh and nothing
// else: no compiler, make or python, so the install works only from a
// prebuilt addon. Used by test/65.tarball.test.ts and scripts/check-arm64.js.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

/** `npm pack` of the current dist/ and prebuilds/ (not rebuilt) into dir; returns the tarball's path. */
function pack(dir) {
  const out = execFileSync(process.execPath, [npmCli, 'pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(out);
  return { tarball: path.join(dir, info.filename), size: info.size, unpackedSize: info.unpackedSize, files: info.files.map((f) => f.path) };
}

/** A bin folder inside dir holding only node and sh; returns a PATH of just that folder. */
function barePath(dir) {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  return bin;
}

/** Installs the tarball into dir/app (a new, empty project) with no compiler on PATH; returns the project folder and that PATH. */
function installWithoutCompiler(tarball, dir) {
  const PATH = barePath(dir);
  const app = path.join(dir, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  // The registry serves only aioring's two small dependencies, from npm's cache when they are there.
  execFileSync(process.execPath, [npmCli, 'install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], {
    cwd: app,
    env: { HOME: process.env.HOME ?? dir, PATH },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { app, PATH };
}

module.exports = { pack, installWithoutCompiler, root };

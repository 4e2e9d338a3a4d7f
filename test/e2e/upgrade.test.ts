// Upgrades end to end with real processes: a manager, and agents run from a copy of the dev
// bundle (A, 0.1.0) upgraded to the same program bundled with HOSTWATCH_VERSION=0.2.0 (B), signed
// with `manager upgrade-key`. Building two single-file executables takes minutes: the dev bundle
// run by node stands in for them (the file replaced is the script node runs).

import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { AGENT_JS, apiJson, BACK_AFTER_RESTART_MS, BUILD, cli, cliJson, killAll, run, startManager, waitOnline, type ManagerProc, type Proc } from './procs.helper.ts';
import { buildAgentVersion, killPids, managerSigning } from './upgrade.helper.ts';

const work = join(BUILD, `upgrade-e2e-${randomBytes(4).toString('hex')}`); // inside .build: the bundle finds node_modules
const B = join(work, 'b', 'agent.mjs');
const pids: number[] = [];
let mgr: ManagerProc;
let setupError: unknown;

test.before(async () => {
  try {
    mkdirSync(join(work, 'b'), { recursive: true });
    await buildAgentVersion(B, '0.2.0');
    mgr = await managerSigning([[B, '0.2.0']]);
  } catch (err) {
    setupError = err;
  }
});

test.after(async () => {
  killPids(pids);
  await killAll();
  rmSync(work, { recursive: true, force: true });
  cleanTempDirs();
});

/** An agent run from its own copy of A, so its file can be replaced. */
function agentA(name: string, extra: string[] = []): Proc & { exe: string; stateDir: string } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, 'agent.mjs');
  copyFileSync(AGENT_JS, exe);
  const stateDir = tempDir('hw-upg-agent-');
  const p = run(exe, ['--manager', `127.0.0.1:${mgr.tcpPort}`, '--udp-port', String(mgr.udpPort), '--interval', '1', '--state-dir', stateDir,
    '--enroll-token-file', join(mgr.dataDir, 'enroll-token'), '--name', name, ...extra]);
  return { ...p, exe, stateDir };
}

/** Pids the watcher says it started (B, or A again), killed at the end. */
function notePids(p: Proc): void {
  for (const m of p.output().matchAll(/\(pid (\d+)\)/g)) if (!pids.includes(Number(m[1]))) pids.push(Number(m[1]));
}

function events(): any[] {
  return readFileSync(join(mgr.dataDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.event === 'upgrade');
}

test('setup: a manager with an upgrade key, B built and signed', () => {
  if (setupError) throw setupError;
});

test('a signed upgrade: the agent comes back as 0.2.0 with the same id and alert queue; recorded with who asked', timed(120_000, async () => {
  const a = agentA('good', ['--allow-upgrade']);
  const before = await waitOnline(mgr.dataDir, 'good', undefined, a);
  assert.is(before.version, '0.1.0');
  const epoch = JSON.parse(readFileSync(join(a.stateDir, 'alerts.json'), 'utf8')).epoch;
  const r = await cli(mgr.dataDir, ['upgrade', 'good', '--to', B, '--json'], 100_000);
  notePids(a);
  assert.is(r.code, 0, `${r.stdout}\n${r.stderr}\n${a.output()}`);
  const after = await waitFor(async () => (await cliJson<any[]>(mgr.dataDir, ['agents'])).find((x) => x.name === 'good' && x.online && x.version === '0.2.0'), 30_000, 'back on 0.2.0');
  assert.is(after.id, before.id);
  assert.is(JSON.parse(readFileSync(join(a.stateDir, 'alerts.json'), 'utf8')).epoch, epoch, 'same alert queue');
  assert.ok(readFileSync(a.exe).equals(readFileSync(B)), 'B is at the executable\'s path');
  assert.ok(readFileSync(`${a.exe}.previous`).equals(readFileSync(AGENT_JS)), 'A kept as .previous');
  await waitFor(() => events().some((e) => e.type === 'UPGRADE_DONE' && e.agent.id === before.id), 10_000, 'UPGRADE_DONE');
  const started = events().find((e) => e.type === 'UPGRADE_STARTED' && e.agent.id === before.id);
  assert.ok(started?.by, 'who started it');
  const status = await cliJson<any>(mgr.dataDir, ['upgrade', 'status']);
  assert.is(status.state, 'done');
  assert.is(status.hosts[0].step, 'done');
}));

test('refused before anything is replaced: unsigned, another key, another platform, no --allow-upgrade', timed(120_000, async () => {
  const off = agentA('no-allow');
  const on = agentA('allow', ['--allow-upgrade']);
  await waitOnline(mgr.dataDir, 'no-allow', undefined, off);
  await waitOnline(mgr.dataDir, 'allow', undefined, on);
  // unsigned: said by the CLI before the manager is asked
  const unsigned = join(work, 'unsigned.mjs');
  copyFileSync(B, unsigned);
  let r = await cli(mgr.dataDir, ['upgrade', 'allow', '--to', unsigned]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /UPGRADE_BAD_SIGNATURE/);
  // another key
  const otherDir = tempDir('hw-upg-other-');
  assert.is((await cli(otherDir, ['upgrade-key', 'create'])).code, 0);
  const forged = join(work, 'forged.mjs');
  copyFileSync(B, forged);
  assert.is((await cli(mgr.dataDir, ['upgrade-key', 'sign', forged, '--key', join(otherDir, 'upgrade-key.pem')])).code, 0);
  r = await cli(mgr.dataDir, ['upgrade', 'allow', '--to', forged, '--json'], 60_000);
  assert.is(r.code, 1);
  assert.match(r.stdout, /UPGRADE_BAD_SIGNATURE/);
  // another platform
  const win = join(work, 'win.mjs');
  copyFileSync(B, win);
  assert.is((await cli(mgr.dataDir, ['upgrade-key', 'sign', win, '--platform', 'win32', '--agent-version', '0.2.0'])).code, 0);
  r = await cli(mgr.dataDir, ['upgrade', 'allow', '--to', win, '--json'], 60_000);
  assert.is(r.code, 1);
  assert.match(r.stdout, /UPGRADE_WRONG_PLATFORM/);
  // an agent that does not allow it
  r = await cli(mgr.dataDir, ['upgrade', 'no-allow', '--to', B, '--json'], 60_000);
  assert.is(r.code, 1);
  assert.match(r.stdout, /UPGRADE_NOT_ALLOWED/);
  for (const p of [off, on]) {
    assert.ok(readFileSync(p.exe).equals(readFileSync(AGENT_JS)), 'A untouched');
    assert.is(p.child.exitCode, null, 'A still running');
  }
  const list = await cliJson<any[]>(mgr.dataDir, ['agents']);
  for (const n of ['allow', 'no-allow']) assert.is(list.find((x) => x.name === n).version, '0.1.0');
  assert.ok(events().some((e) => e.type === 'UPGRADE_FAILED' && /UPGRADE_NOT_ALLOWED/.test(e.reason)));
}));

test('a B that exits at once: rolled back to A, which comes back; UPGRADE_FAILED with the reason', timed(120_000, async () => {
  const broken = join(work, 'broken.mjs');
  writeFileSync(broken, 'process.exit(3);\n');
  assert.is((await cli(mgr.dataDir, ['upgrade-key', 'sign', broken, '--agent-version', '0.3.0'])).code, 0);
  const a = agentA('rollback', ['--allow-upgrade']);
  const before = await waitOnline(mgr.dataDir, 'rollback', undefined, a);
  const r = await cli(mgr.dataDir, ['upgrade', 'rollback', '--to', broken, '--json'], 100_000);
  notePids(a);
  assert.is(r.code, 1, r.stdout);
  assert.match(r.stdout, /UPGRADE_FAILED/);
  // The rollout's answer and the watcher's restore of A are two processes' doings: waited for, not assumed in order.
  await waitFor(() => readFileSync(a.exe).equals(readFileSync(AGENT_JS)), 10_000, 'A back at the executable\'s path');
  const back = await waitFor(async () => (await cliJson<any[]>(mgr.dataDir, ['agents'])).find((x) => x.name === 'rollback' && x.online), 30_000, 'A back');
  assert.is(back.version, '0.1.0');
  assert.is(back.id, before.id);
  const failed = events().find((e) => e.type === 'UPGRADE_FAILED' && e.agent.id === before.id);
  assert.match(failed.reason, /exited \(code 3\)/);
}));

test('a B that starts but is never welcomed: stopped at the end of --upgrade-probation, A back', timed(120_000, async () => {
  const silent = join(work, 'silent.mjs');
  writeFileSync(silent, 'setInterval(() => {}, 1000);\n');
  assert.is((await cli(mgr.dataDir, ['upgrade-key', 'sign', silent, '--agent-version', '0.4.0'])).code, 0);
  const a = agentA('never', ['--allow-upgrade', '--upgrade-probation', '3s']);
  const before = await waitOnline(mgr.dataDir, 'never', undefined, a);
  const r = await cli(mgr.dataDir, ['upgrade', 'never', '--to', silent, '--json'], 30_000);
  notePids(a);
  assert.is(r.code, 1, `${r.stdout}\n${a.output()}`);
  await waitFor(() => readFileSync(a.exe).equals(readFileSync(AGENT_JS)), 10_000, 'A back');
  const failed = await waitFor(() => events().find((e) => e.type === 'UPGRADE_FAILED' && e.agent.id === before.id), 10_000, 'UPGRADE_FAILED');
  assert.match(failed.reason, /not connected and welcomed within 3 s/);
}));

test('a rollout in batches of one stops at the first failing batch; the rest is not started', timed(120_000, async () => {
  const x = agentA('batch-x');
  const y = agentA('batch-y');
  await waitOnline(mgr.dataDir, 'batch-x', undefined, x);
  await waitOnline(mgr.dataDir, 'batch-y', undefined, y);
  const r = await cli(mgr.dataDir, ['upgrade', 'batch-*', '--to', B, '--batch', '1', '--max-failures', '1', '--json'], 60_000);
  assert.is(r.code, 1);
  const s = await cliJson<any>(mgr.dataDir, ['upgrade', 'status']);
  assert.is(s.state, 'stopped');
  assert.equal(s.hosts.map((h: any) => h.step).sort(), ['failed', 'waiting']);
  assert.is(s.hosts.find((h: any) => h.step === 'failed').error.code, 'UPGRADE_NOT_ALLOWED');
}));

test('a manager killed -9 mid-rollout: restarted, the status says where it stopped, `upgrade resume` takes every host to B', timed(240_000, async () => {
  // B made big enough (a comment of 24 MB) that its transfer lasts while the kill lands.
  const big = join(work, 'b-big', 'agent.mjs');
  mkdirSync(join(work, 'b-big'), { recursive: true });
  copyFileSync(B, big);
  appendFileSync(big, `\n/*${'x'.repeat(24 * 1024 * 1024)}*/\n`);
  assert.is((await cli(mgr.dataDir, ['upgrade-key', 'sign', big])).code, 0);
  // The last rollout (the batch test's) stopped, it was not interrupted: nothing to resume.
  const early = await cli(mgr.dataDir, ['upgrade', 'resume']);
  assert.is(early.code, 1);
  assert.match(early.stderr, /UPGRADE_NOT_RESUMABLE/);
  const names = ['resume-1', 'resume-2', 'resume-3'];
  const agents = names.map((n) => agentA(n, ['--allow-upgrade', '--upgrade-probation', '90s']));
  const before = await Promise.all(names.map((n, i) => waitOnline(mgr.dataDir, n, undefined, agents[i]!)));
  const rollout = cli(mgr.dataDir, ['upgrade', 'resume-*', '--to', big, '--batch', '1', '--json'], 120_000);
  // The first host done, then the kill while the second one's file is arriving (<exe>.new on its disk).
  const first = await waitFor(async () => {
    const s = await apiJson(mgr.dataDir, '/api/upgrade');
    return s?.hosts?.[0]?.step === 'done' ? s : undefined;
  }, 90_000, 'the first host on B', 50);
  const second = agents[names.indexOf(first.hosts[1].agent)]!;
  let sawNew = false;
  for (let i = 0; i < 20_000 && !sawNew; i++) {
    sawNew = existsSync(`${second.exe}.new`);
    if (!sawNew) await new Promise((r) => setTimeout(r, 1));
  }
  const dataDir = mgr.dataDir;
  const ports = ['--port', String(mgr.tcpPort), '--udp-port', String(mgr.udpPort)];
  await mgr.kill('SIGKILL');
  await rollout; // the CLI loses its manager
  mgr = await startManager(ports, dataDir);
  await waitFor(() => /upgrade rollout {4}to 0\.2\.0, interrupted in batch [23] of 3 .*`manager upgrade resume`/.test(mgr.output()), 5000, 'the start banner saying the rollout was cut short');
  const status = await cliJson<any>(dataDir, ['upgrade', 'status']);
  assert.is(status.state, 'interrupted');
  assert.is(status.hosts[0].step, 'done');
  assert.ok(status.hosts.some((h: any) => h.step !== 'done'), 'some host left');
  assert.ok(status.interruptedAt > status.startedAt);
  const text = await cli(dataDir, ['upgrade', 'status']);
  assert.match(text.stdout, /interrupted in batch [23] of 3 .*`manager upgrade resume`/);
  // The host the kill caught sending is judged when it says hello again: back on A, pending again.
  const judged = await waitFor(async () => {
    const s = await apiJson(dataDir, '/api/upgrade');
    return s.hosts.every((h: any) => h.step !== 'sending' && h.step !== 'switching') ? s : undefined;
  }, BACK_AFTER_RESTART_MS, 'the cut-short host judged after its reconnect');
  if (sawNew) {
    const h = judged.hosts[1];
    assert.match(h.note, /^was (sending|switching) when the manager stopped; came back on 0\.[12]\.0/);
    assert.ok(readFileSync(second.exe).equals(readFileSync(h.step === 'done' ? big : AGENT_JS)), 'the executable is A or B, whole');
  }
  const r = await cli(dataDir, ['upgrade', 'resume', '--json'], 150_000);
  for (const a of agents) notePids(a);
  assert.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const after = await waitFor(async () => {
    const list = await cliJson<any[]>(dataDir, ['agents']);
    const ours = names.map((n) => list.find((x) => x.name === n));
    return ours.every((x) => x?.online && x.version === '0.2.0') ? ours : undefined;
  }, BACK_AFTER_RESTART_MS, 'every host on B');
  assert.equal(after.map((x) => x.id), before.map((x) => x.id), 'same agents');
  for (const a of agents) assert.ok(readFileSync(a.exe).equals(readFileSync(big)), `B at ${a.exe}`);
  const done = await cliJson<any>(dataDir, ['upgrade', 'status']);
  assert.is(done.state, 'done');
  assert.ok(done.resumedBy, 'who resumed it');
  const resumed = events().find((e) => e.type === 'UPGRADE_RESUMED');
  assert.is(resumed?.by, done.resumedBy);
  assert.is(resumed?.sha256, done.sha256);
}));

test.run();

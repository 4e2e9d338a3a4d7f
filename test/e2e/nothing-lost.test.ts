// Nothing lost, end to end: real manager processes killed, stopped and restarted, and agents whose
// every sample is counted in the manager's history against the agent's own count. A sample leaves
// the agent's spool only once the manager has it in its history on disk.

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Agent } from '../../common/agent/agent.ts';
import { SampleSpool } from '../../common/agent/sample-spool.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { apiJson, BACK_AFTER_RESTART_MS, cliJson, startManager, type ManagerProc } from './procs.helper.ts';
import { drivenDeps, testAgent, cleanupAfterEach } from './inproc.helper.ts';
import { mountTmpfs, noTmpfs } from './tmpfs.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

const metrics = { cpuPercent: 7, memPercent: 10, diskPercent: 20, netRxBytes: 1, netTxBytes: 2, uptimeSeconds: 3, processCount: 4 };

/**
 * Samples the agent took while away, put in its spool as it would have: `n` samples a second
 * apart ending a second ago (an agent restarted during a long outage finds them there).
 */
function spooled(stateDir: string, n: number, stepMs = 1000): number {
  const spool = new SampleSpool({ dir: join(stateDir, 'spool') });
  // Ending 3 steps before the agent starts: the live samples' history slots never meet these.
  const end = Date.now() - 3 * stepMs;
  for (let i = n - 1; i >= 0; i--) spool.push({ at: end - i * stepMs, metrics: { ...metrics, cpuPercent: i % 100 } });
  spool.close();
  return n;
}

/**
 * The agent's samples in the manager's history up to `until` (ms), counted one by one. The raw tier
 * has one slot per interval: two samples taken closer than that (the timer late, then early, on a
 * loaded machine) share a slot and the later wins, so the tests after the first report every 2 s,
 * far from that.
 */
async function inHistory(m: { dataDir: string }, name: string, since: string, until: number): Promise<number> {
  const h = await cliJson<any>(m.dataDir, ['history', name, '--since', since, '--points', '10000']);
  assert.is(h.tier, 'raw', 'counted from the raw tier, one point a sample');
  return h.points.filter((p: any) => Date.parse(p.at) <= until).length;
}

/** Waits until everything the agent took is acknowledged; returns its count and newest sample's time. */
async function settled(agent: Agent, ms = BACK_AFTER_RESTART_MS): Promise<{ taken: number; lastAt: number }> {
  return waitFor(() => {
    const f = agent.sampleFigures();
    return f.acknowledged && f.unacked === 0 && f.lastAt !== null ? { taken: f.taken, lastAt: f.lastAt } : null;
  }, ms, 'every sample acknowledged');
}

async function restart(m: ManagerProc): Promise<ManagerProc> {
  const m2 = await startManager(['--auto-accept', '--port', String(m.tcpPort), '--udp-port', String(m.udpPort)], m.dataDir);
  closers.push(() => void m2.kill('SIGKILL'));
  return m2;
}

test('an agent back from a 15-minute outage at --interval 1: all 900 spooled samples and every live one in history', timed(120_000, async () => {
  const m = await startManager(['--auto-accept']);
  closers.push(() => void m.kill('SIGKILL'));
  const stateDir = tempDir('hw-agent-');
  const away = spooled(stateDir, 900);
  const agent = await testAgent(m, drivenDeps(), { name: 'outage', stateDir, intervalS: 1 });
  agents.push(agent);
  const { taken, lastAt } = await settled(agent, 60_000);
  assert.is(await inHistory(m, 'outage', '1h', lastAt), away + taken);
  const stats = await apiJson<any>(m.dataDir, '/api/stats');
  assert.is(stats.history.dropped, 0, 'nothing dropped by the history');
  assert.is(stats.samples.lostByAgents, 0);
  assert.is(agent.sampleFigures().lost, 0);
}));

test('kill -9 of the manager right after the backfill goes out: after a restart every sample is there', timed(BACK_AFTER_RESTART_MS + 90_000, async () => {
  const m = await startManager(['--auto-accept']);
  closers.push(() => void m.kill('SIGKILL'));
  const stateDir = tempDir('hw-agent-');
  const away = spooled(stateDir, 300, 2000);
  const agent = await testAgent(m, drivenDeps(), { name: 'cut', stateDir, intervalS: 2 });
  agents.push(agent);
  // The first backfill is on its way (sent, not yet acknowledged): the manager dies now.
  await waitFor(() => agent.sampleFigures().inFlight > 1, 20_000, 'backfill in flight');
  await m.kill('SIGKILL');
  const m2 = await restart(m);
  const { taken, lastAt } = await settled(agent);
  const stats = await apiJson<any>(m2.dataDir, '/api/stats');
  assert.is(stats.history.overwritten, 0, 'no two samples in one history slot');
  assert.is(await inHistory(m2, 'cut', '1h', lastAt), away + taken);
}));

test('a manager stopped (SIGSTOP) for 20 s, then killed: after a restart no sample of those seconds is missing', timed(BACK_AFTER_RESTART_MS + 90_000, async () => {
  const m = await startManager(['--auto-accept']);
  closers.push(() => void m.kill('SIGKILL'));
  const agent = await testAgent(m, drivenDeps(), { name: 'hung', intervalS: 2 });
  agents.push(agent);
  await settled(agent, 20_000);
  const before = agent.sampleFigures().taken;
  m.child.kill('SIGSTOP');
  // The fault is the 20 s the manager hangs: counted in samples the agent takes meanwhile.
  await waitFor(() => agent.sampleFigures().taken >= before + 10, 40_000, '20 s of samples taken while the manager hangs');
  await m.kill('SIGKILL');
  const m2 = await restart(m);
  const { taken, lastAt } = await settled(agent);
  assert.ok(taken >= before + 10);
  assert.is(await inHistory(m2, 'hung', '1h', lastAt), taken);
}));

test('the spool\'s disk full, then space again: the spool goes back to disk and an agent restart loses nothing', timed(BACK_AFTER_RESTART_MS + 90_000, async () => {
  const why = noTmpfs();
  if (why) {
    console.log(`  skipped: ${why}`);
    return;
  }
  const fs = mountTmpfs(2048);
  closers.push(() => fs.unmount());
  const m = await startManager(['--auto-accept']);
  closers.push(() => void m.kill('SIGKILL'));
  const id = randomUUID();
  const logs: string[] = [];
  const a1 = await testAgent(m, drivenDeps(), { id, name: 'fulldisk', stateDir: fs.dir, intervalS: 2, log: (l) => logs.push(l) });
  await settled(a1, 20_000);
  await m.kill('SIGKILL'); // the manager away: every sample waits in the spool
  const t0 = a1.sampleFigures().taken;
  fs.fill();
  // The segment being written may take a few more lines in its last page before the disk refuses.
  await waitFor(() => logs.some((l) => /cannot write the sample spool/.test(l)) && a1.sampleFigures().taken >= t0 + 3, 90_000, 'samples kept in memory');
  fs.free();
  await waitFor(() => logs.some((l) => /sample spool .* written again/.test(l)), 20_000, logs.join('\n'));
  const taken1 = a1.sampleFigures().taken;
  await a1.stop(); // as a kill: what the spool has on disk is all the next start gets
  const m2 = await restart(m);
  const a2 = await testAgent(m2, drivenDeps(), { id, name: 'fulldisk', stateDir: fs.dir, intervalS: 2 });
  agents.push(a2);
  const { taken, lastAt } = await settled(a2);
  assert.is(await inHistory(m2, 'fulldisk', '1h', lastAt), taken1 + taken);
  assert.is(a1.sampleFigures().lost + a2.sampleFigures().lost, 0);
}));

test.run();

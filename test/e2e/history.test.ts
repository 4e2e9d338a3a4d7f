// History end to end: a real manager killed with -9 keeps what it had (within the flush bound),
// the CLI and API answer ranges and the fleet query, and an agent restarted during a manager
// outage leaves no hole once both are back.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HISTORY_FLUSH_MS } from '../../common/history/store.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cliJson, startAgent, startManager, waitOnline } from './procs.helper.ts';
import { cleanupAfterEach, serveTest, testAgent } from './inproc.helper.ts';
import { assertEveryTakenSample, recordingDeps } from './samples-taken.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

test('kill -9 of the manager: after a restart the history before the kill is there (within the flush bound)', timed(60_000, async () => {
  const mgr = await startManager();
  const agent = startAgent(mgr, ['--name', 'durable']);
  await waitOnline(mgr.dataDir, 'durable', 30_000, mgr, agent);
  const before = await waitFor(async () => {
    const h = await cliJson<any>(mgr.dataDir, ['history', 'durable', '--since', '5m']);
    return h.points.length >= 20 ? h : null;
  }, 40_000, 'twenty samples');
  const killedAt = Date.now();
  await mgr.kill('SIGKILL');
  await agent.kill('SIGKILL');
  const mgr2 = await startManager([], mgr.dataDir);
  const after = await cliJson<any>(mgr.dataDir, ['history', 'durable', '--since', '10m']);
  const kept = new Set(after.points.map((p: any) => p.at));
  // The promise: a kill -9 loses at most the last 10 s (samples wait HISTORY_FLUSH_MS in memory).
  assert.ok(HISTORY_FLUSH_MS <= 10_000);
  const mustKeep = before.points.filter((p: any) => Date.parse(p.at) < killedAt - 10_000);
  assert.ok(mustKeep.length >= 5, `${mustKeep.length} samples older than the bound`);
  for (const p of mustKeep) assert.ok(kept.has(p.at), `sample at ${p.at} lost (killed at ${new Date(killedAt).toISOString()})`);
  const p0 = after.points.find((p: any) => p.at === mustKeep[0].at);
  assert.is(p0.cpuPercent, mustKeep[0].cpuPercent);
  assert.is(p0.memPercent, mustKeep[0].memPercent);
  assert.is(after.tier, 'raw');
  assert.is(after.step, 1000);
  // the long view answers from a roll-up tier, with the same field names
  const week = await cliJson<any>(mgr.dataDir, ['history', 'durable', '--since', '7d', '--points', '200']);
  assert.is(week.tier, '5m');
  assert.is(week.step, 300_000, 'fewer records than points: not downsampled further');
  assert.ok(week.points.length <= 200);
  // one metric for every agent, through the API
  const token = readFileSync(join(mgr.dataDir, 'api-token'), 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${mgr2.apiPort}/api/history?metric=memPercent&from=${killedAt - 300_000}&to=${killedAt}&points=30`, { headers: { authorization: `Bearer ${token}` } });
  assert.is(res.status, 200);
  const fleet = await res.json() as any;
  assert.is(fleet.metric, 'memPercent');
  assert.is(fleet.times.length, fleet.agents[0].avg.length);
  assert.is(fleet.agents[0].agent, 'durable');
  assert.ok(fleet.agents[0].avg.some((v: number | null) => typeof v === 'number' && v > 0), JSON.stringify(fleet.agents[0]));
  const bad = await fetch(`http://127.0.0.1:${mgr2.apiPort}/api/history?metric=nope`, { headers: { authorization: `Bearer ${token}` } });
  assert.is(bad.status, 400);
  assert.is(((await bad.json()) as any).error.code, 'BAD_ARGS');
  await mgr2.kill();
}));

test('an agent restarted during a manager outage: its spooled samples arrive, no hole in the history', timed(90_000, async () => {
  const s = await serveTest();
  const { tcpPort, udpPort, dataDir } = s;
  const stateDir = tempDir('hw-agent-');
  const id = randomUUID();
  const taken: number[] = []; // the time of every sample either agent takes
  const a1 = await testAgent(s, recordingDeps(taken), { id, name: 'spooler', stateDir, intervalS: 1 });
  await waitFor(() => s.manager.history.counters.samples >= 3, 15_000, 'some history');
  await s.close();
  await waitFor(() => a1.backlogSize() >= 4, 15_000, 'samples spooled while away');
  await a1.stop();
  const stoppedAt = Date.now();
  const a2 = await testAgent(s, recordingDeps(taken), { id, name: 'spooler', stateDir, intervalS: 1 });
  agents.push(a2);
  assert.ok(a2.backlogSize() >= 4, 'the spool survived the restart');
  await waitFor(() => a2.backlogSize() >= 7, 15_000, 'more samples spooled');
  const s2 = await serveTest({ dataDir, port: tcpPort, udpPort });
  closers.push(s2.close);
  // Everything taken until the backlog is empty has been acknowledged, so is in the history on disk.
  const sent = await waitFor(() => (a2.backlogSize() === 0 && a2.connected ? taken.slice() : null), 45_000, 'spool sent');
  await waitFor(() => s2.manager.history.counters.samples >= 9, 15_000, 'samples in');
  const h = await cliJson<any>(dataDir, ['history', 'spooler', '--since', '1h']);
  const times = h.points.map((p: any) => Date.parse(p.at));
  assert.ok(h.points.some((p: any) => p.backfill && Date.parse(p.at) < stoppedAt), 'backfill from before the agent restart');
  assert.ok(h.points.some((p: any) => !p.backfill), 'live points');
  for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1], 'in time order, no duplicates');
  // No hole: every sample either agent took is there (not gaps between points: see the helper).
  assert.ok(sent.length >= 9, `${sent.length} samples taken`);
  assertEveryTakenSample(h, sent);
}));

test.run();

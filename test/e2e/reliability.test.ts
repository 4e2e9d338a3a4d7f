// Nothing lost across outages: agents marked down and back up, samples taken while away
// backfilled with no hole in the history, alerts queued on disk across an agent restart, and a
// blackholing network detected by heartbeat.

import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cliJson } from './procs.helper.ts';
import { drivenDeps, serveTest, testAgent, cleanupAfterEach } from './inproc.helper.ts';
import { assertEveryTakenSample, recordingDeps } from './samples-taken.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

test('AGENT_DOWN after three silent intervals, AGENT_UP when back; both in alerts', timed(30_000, async () => {
  const s = await serveTest({ startGraceMs: 0 });
  closers.push(s.close);
  const stateDir = tempDir('hw-agent-');
  const id = randomUUID();
  const a1 = await testAgent(s, drivenDeps(), { id, name: 'flaky', stateDir, intervalS: 1 });
  await waitFor(() => s.manager.state.agents().find((a) => a.name === 'flaky')?.metrics, 5000, 'reporting');
  await a1.stop();
  await waitFor(() => s.manager.state.alerts().some((a) => a.type === 'AGENT_DOWN'), 10_000, 'AGENT_DOWN');
  const a2 = await testAgent(s, drivenDeps(), { id, name: 'flaky', stateDir, intervalS: 1 });
  agents.push(a2);
  await waitFor(() => s.manager.state.alerts().some((a) => a.type === 'AGENT_UP'), 10_000, 'AGENT_UP');
  const list = await cliJson<any[]>(s.dataDir, ['alerts']);
  assert.equal(list.map((a) => [a.agent, a.type]), [['flaky', 'AGENT_DOWN'], ['flaky', 'AGENT_UP']]);
  assert.ok(list[0].value >= 1, 'AGENT_DOWN carries the seconds of silence');
}));

test('samples taken while the manager is away are backfilled: no hole in the history', timed(30_000, async () => {
  const s = await serveTest();
  const taken: number[] = [];
  const agent = await testAgent(s, recordingDeps(taken), { name: 'gapless', intervalS: 1 });
  agents.push(agent);
  await waitFor(() => s.manager.history.counters.samples >= 3, 10_000, 'some history');
  const { tcpPort, udpPort, dataDir } = s;
  await s.close();
  await waitFor(() => agent.backlogSize() >= 4, 10_000, 'samples kept while away');
  const s2 = await serveTest({ dataDir, port: tcpPort, udpPort });
  closers.push(s2.close);
  // Everything taken until the backlog is empty has been acknowledged, so is in the history on disk.
  const sent = await waitFor(() => (agent.backlogSize() === 0 && agent.connected ? taken.slice() : null), 10_000, 'backlog sent');
  const h = await cliJson<any>(dataDir, ['history', 'gapless', '--since', '1h']);
  const times = h.points.map((p: any) => Date.parse(p.at));
  assert.ok(h.points.some((p: any) => p.backfill), 'backfilled points marked');
  assert.ok(h.points.some((p: any) => !p.backfill), 'live points');
  for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1], 'in time order, no duplicates');
  // No hole: every sample the agent took is there (not gaps between points: see the helper).
  assert.ok(sent.length >= 7, `${sent.length} samples taken`);
  assertEveryTakenSample(h, sent);
}));

test('alerts queued while the manager is down survive an agent restart, delivered once, in order', timed(30_000, async () => {
  const s = await serveTest();
  const { tcpPort, udpPort, dataDir } = s;
  const stateDir = tempDir('hw-agent-');
  const id = randomUUID();
  const deps = drivenDeps();
  const a1 = await testAgent(s, deps, { id, name: 'queuer', stateDir });
  await waitFor(() => a1.connected, 5000, 'connected');
  await s.close();
  await waitFor(() => !a1.connected, 5000, 'disconnected');
  deps.cpu = 99;
  await waitFor(() => a1.pendingAlerts() === 1, 5000, 'CPU_HIGH queued');
  deps.cpu = 1;
  await waitFor(() => a1.pendingAlerts() === 2, 5000, 'CPU_NORMAL queued');
  await a1.stop();
  // A new agent process: same state folder, same id, nothing in memory.
  const a2 = await testAgent({ tcpPort, udpPort }, drivenDeps(), { id, name: 'queuer', stateDir });
  agents.push(a2);
  assert.is(a2.pendingAlerts(), 2, 'read back from disk');
  const s2 = await serveTest({ dataDir, port: tcpPort, udpPort });
  closers.push(s2.close);
  await waitFor(() => a2.pendingAlerts() === 0, 10_000, 'delivered and acknowledged');
  await new Promise((r) => setTimeout(r, 300));
  const got = s2.manager.state.alerts().filter((a) => a.agentId === id);
  assert.equal(got.map((a) => [a.type, a.seq]), [['CPU_HIGH', 1], ['CPU_NORMAL', 2]]);
}));

/** A TCP proxy that can stop forwarding while keeping every connection open (a blackhole). */
function proxy(target: number): Promise<{ port: number; blackhole: (on: boolean) => void; server: Server; accepted: () => number }> {
  let holed = false;
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    accepted++;
    const up = connect(target, '127.0.0.1');
    sockets.add(client).add(up);
    client.on('data', (d) => { if (!holed) up.write(d); });
    up.on('data', (d) => { if (!holed) client.write(d); });
    client.on('error', () => {});
    up.on('error', () => {});
    // In a blackhole nothing gets through, not even a close: each side is left waiting.
    client.on('close', () => { if (!holed) up.destroy(); });
    up.on('close', () => { if (!holed) client.destroy(); });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({
    port: (server.address() as { port: number }).port,
    blackhole: (on) => { holed = on; },
    server: Object.assign(server, { destroyAll: () => sockets.forEach((s) => s.destroy()) }),
    accepted: () => accepted,
  })));
}

test('a connection that stays open but silent is detected by heartbeat and replaced', timed(30_000, async () => {
  const s = await serveTest({ heartbeatMs: 200 });
  closers.push(s.close);
  const p = await proxy(s.tcpPort);
  closers.push(() => { (p.server as any).destroyAll(); p.server.close(); });
  const deps = drivenDeps();
  const agent = await testAgent({ tcpPort: p.port, udpPort: s.udpPort }, deps, { name: 'blackholed', heartbeatMs: 200 });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected through the proxy');
  const reasons: string[] = [];
  agent.on('disconnected', (r) => reasons.push(r));
  p.blackhole(true);
  await waitFor(() => reasons.length > 0, 5000, 'heartbeat timeout');
  assert.match(reasons[0]!, /HEARTBEAT_TIMEOUT|no data/);
  p.blackhole(false);
  await waitFor(() => agent.connected && p.accepted() >= 2, 10_000, 'reconnected on a new connection');
  // The manager dropped the dead connection too, and the agent is online once.
  await waitFor(() => s.manager.state.agents().filter((a) => a.name === 'blackholed' && a.online).length === 1, 5000, 'online again');
}));

test.run();

// The CPU alert and its recovery, over UDP with the TCP copy, shown exactly once; with UDP lost,
// TCP alone delivers it; no forged or unsigned ack removes a queued alert.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seal, split } from '../../common/security/udp-mac.ts';
import { timed, waitFor } from '../harness.helper.ts';
import { apiJson, cliJson } from './procs.helper.ts';
import { drivenDeps, serveTest, testAgent, cleanupAfterEach } from './inproc.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

test('CPU_HIGH when above the threshold for --cpu-for, CPU_NORMAL when back below, each shown once', timed(20_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const deps = drivenDeps();
  const agent = await testAgent(s, deps, { name: 'hot' });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected');
  deps.cpu = 81; // hovering just above: high after the window
  await waitFor(() => s.manager.state.alerts().length === 1, 5000, 'CPU_HIGH');
  // Below the threshold but within the hysteresis: no recovery, no flapping. Counted in samples
  // the agent took (three windows' worth), not in time, so a loaded machine cannot skip them.
  const read = deps.cpuPercent;
  let reads = 0;
  deps.cpuPercent = () => { reads++; return read(); };
  deps.cpu = 79;
  await waitFor(() => reads >= 18, 10_000, 'eighteen samples at 79%');
  assert.is(s.manager.state.alerts().length, 1, 'no CPU_NORMAL inside the hysteresis band');
  deps.cpu = 20;
  await waitFor(() => s.manager.state.alerts().length === 2, 5000, 'CPU_NORMAL');
  await waitFor(() => agent.pendingAlerts() === 0, 5000, 'all acknowledged');
  await new Promise((r) => setTimeout(r, 400)); // the UDP and TCP copies have both arrived by now
  const list = await cliJson<any[]>(s.dataDir, ['alerts']);
  assert.equal(list.map((a) => [a.agent, a.type, a.seq]), [['hot', 'CPU_HIGH', 1], ['hot', 'CPU_NORMAL', 2]]);
  assert.is(list[0].value, 81);
  assert.is(list[1].value, 20);
  assert.type(list[0].at, 'string');
  const logged = readFileSync(join(s.dataDir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"event":"alert"'));
  assert.is(logged.length, 2, 'event log has each alert once');
  const stats = await apiJson(s.dataDir, '/api/stats');
  assert.is(stats.alertsIngested, 2, '/api/stats counts each alert once');
  assert.ok(stats.reportsIngested > 0, 'and the reports');
  assert.is(stats.agentsOnline, 1);
  assert.type(stats.eventLoopDelayMs.p99, 'number');
}));

test('with every datagram lost, the TCP copy delivers the alert once', timed(20_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  // A UDP port where nobody listens: the datagrams go nowhere.
  const sink = createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  const deadPort = sink.address().port;
  sink.close();
  const deps = drivenDeps();
  const agent = await testAgent({ tcpPort: s.tcpPort, udpPort: deadPort }, deps, { name: 'tcp-only' });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected');
  deps.cpu = 99;
  await waitFor(() => s.manager.state.alerts().length === 1, 5000, 'alert over TCP');
  const a = s.manager.state.alerts()[0]!;
  assert.is(a.type, 'CPU_HIGH');
  assert.is(a.via, 'tcp');
  await waitFor(() => agent.pendingAlerts() === 0, 5000, 'acknowledged over TCP');
}));

test('an alert raised while the manager is away is delivered after reconnecting, once', timed(20_000, async () => {
  const s = await serveTest();
  const deps = drivenDeps();
  const agent = await testAgent(s, deps, { name: 'later' });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected');
  const { tcpPort, udpPort, dataDir } = s;
  await s.close();
  await waitFor(() => !agent.connected, 5000, 'disconnected');
  deps.cpu = 95;
  await waitFor(() => agent.pendingAlerts() === 1, 5000, 'queued while away');
  const s2 = await serveTest({ dataDir, port: tcpPort, udpPort });
  closers.push(s2.close);
  await waitFor(() => s2.manager.state.alerts().some((a) => a.agent === 'later'), 10_000, 'delivered after reconnect');
  await waitFor(() => agent.pendingAlerts() === 0, 5000, 'acknowledged');
  await new Promise((r) => setTimeout(r, 300));
  assert.is(s2.manager.state.alerts().filter((a) => a.agent === 'later').length, 1);
}));

test('while an alert waits, forged and unsigned acks leave it queued; it arrives once the manager is back', timed(30_000, async () => {
  const s = await serveTest();
  const deps = drivenDeps();
  const agent = await testAgent(s, deps, { name: 'guarded' });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected');
  const { tcpPort, udpPort, dataDir } = s;
  await s.close();
  await waitFor(() => !agent.connected, 5000, 'disconnected');
  // The manager's UDP address, held by the test while the manager is down: the agent's datagrams
  // (sealed with the last session's key) arrive here and nothing answers but the forgeries.
  const bound = async (address: string, port = 0): Promise<Socket> => {
    const u = createSocket('udp4');
    u.bind(port, address);
    await once(u, 'listening');
    return u;
  };
  const atManager = await bound('127.0.0.1', udpPort);
  const outsider = await bound('127.0.0.2');
  const seen: { buf: Buffer; from: RemoteInfo }[] = [];
  atManager.on('message', (buf, from) => seen.push({ buf, from }));
  deps.cpu = 95;
  await waitFor(() => agent.pendingAlerts() === 1 && seen.length > 0, 5000, 'queued, its datagram resent');
  const { buf, from } = seen[0]!;
  const sent = JSON.parse(split(buf)!.body.toString());
  const ack = Buffer.from(JSON.stringify({ type: 'ack', agentId: agent.id, epoch: sent.epoch, seq: sent.seq }));
  const send = (u: Socket, b: Buffer) => new Promise<void>((r) => u.send(b, from.port, from.address, () => r()));
  await send(outsider, ack); // another address
  await send(outsider, seal(randomBytes(32), ack));
  await send(atManager, ack); // the manager's address, unsigned
  await send(atManager, seal(randomBytes(32), ack)); // sealed with a key made up
  await send(atManager, buf); // the agent's own datagram sent back
  await waitFor(() => Object.values(agent.refusedAcks()).reduce((a, b) => a + b, 0) === 5, 5000, 'five acks refused');
  assert.equal(agent.refusedAcks(), { 'not-manager': 2, 'bad-mac': 2, malformed: 1 });
  assert.is(agent.pendingAlerts(), 1, 'still queued');
  atManager.close();
  outsider.close();

  const s2 = await serveTest({ dataDir, port: tcpPort, udpPort });
  closers.push(s2.close);
  await waitFor(() => agent.pendingAlerts() === 0, 10_000, 'delivered and acknowledged');
  const shown = s2.manager.state.alerts().filter((a) => a.agent === 'guarded');
  assert.equal(shown.map((a) => [a.type, a.seq, a.value]), [['CPU_HIGH', sent.seq, 95]]);
}));

test.run();

// Only allowed hosts: an agent connecting from 127.0.0.2 is refused while only 127.0.0.1 is
// allowed (before a byte is read, logged once, with the hint), and accepted once added.

import { createSocket } from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Agent } from '../../common/agent/agent.ts';
import { cleanTempDirs, timed, waitFor } from '../harness.helper.ts';
import { killAll, startAgent, startManager } from './procs.helper.ts';
import { drivenDeps, serveTest, testAgent, readEvents } from './inproc.helper.ts';

const agents: Agent[] = [];
test.after(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await killAll();
  cleanTempDirs();
});

const events = readEvents;

test('refused from 127.0.0.2 with only 127.0.0.1 allowed; accepted once added (real processes)', timed(60_000, async () => {
  const m1 = await startManager(['--allow', '127.0.0.1']);
  const a1 = startAgent(m1, ['--bind', '127.0.0.2', '--name', 'outsider']);
  await waitFor(() => /refused TCP from 127\.0\.0\.2.*--allow 127\.0\.0\.2/.test(m1.output()), 20_000, 'refusal notice')
    .catch((err: Error) => { throw new Error(`${err.message}\n--- manager:\n${m1.output()}\n--- agent:\n${a1.output()}`); });
  // The agent keeps retrying meanwhile: three refused attempts (counted, not waited out in time).
  await waitFor(() => (a1.output().match(/cannot reach manager/g) ?? []).length >= 3, 15_000, 'three refused attempts');
  const ev = events(m1.dataDir);
  assert.not.ok(ev.some((e) => e.event === 'connect'), 'never connected');
  const refusals = ev.filter((e) => e.event === 'refused' && e.address === '127.0.0.2');
  assert.is(refusals.length, 1, 'logged once, not once per attempt');
  assert.match(a1.output(), /cannot reach manager/);
  await m1.kill();
  await a1.kill();

  const m2 = await startManager(['--allow', '127.0.0.1,127.0.0.2']);
  const a2 = startAgent(m2, ['--bind', '127.0.0.2', '--name', 'outsider']);
  await waitFor(() => events(m2.dataDir).find((e) => e.event === 'connect' && e.agent.address === '127.0.0.2'), 10_000, 'accepted');
  await a2.kill();
  await m2.kill();
}));

test('UDP alerts from outside the allowlist are dropped, counted, and logged once', timed(20_000, async () => {
  const s = await serveTest({ allow: ['127.0.0.1'] });
  const deps = drivenDeps();
  const agent = await testAgent(s, deps, { name: 'inside' });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected');
  const id = s.manager.state.agents()[0]!.id;
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.3', () => r()));
  for (let seq = 1; seq <= 20; seq++) {
    sock.send(JSON.stringify({ type: 'alert', agentId: id, seq, alert: 'CPU_HIGH', value: 99, threshold: 80, at: Date.now() }), s.udpPort, '127.0.0.1');
  }
  await waitFor(() => events(s.dataDir).some((e) => e.event === 'refused' && e.address === '127.0.0.3' && e.proto === 'udp'), 5000, 'refusal logged');
  await new Promise((r) => setTimeout(r, 200));
  sock.close();
  assert.is(s.manager.state.alerts().length, 0, 'no alert shown');
  assert.is(events(s.dataDir).filter((e) => e.event === 'refused').length, 1, 'logged once');
  await s.close();
}));

test.run();

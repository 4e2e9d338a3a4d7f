// A manager killed right after it recorded an agent's alert and before it queued the alert's
// notification (HOSTWATCH_FAULT=kill-after-alert-record) sends that notification after its
// restart, once: the outbox's mark says the alert was never queued.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { startReceiver } from '../notify/receiver.helper.ts';
import { cleanupAfterEach, drivenDeps, readEvents, testAgent } from './inproc.helper.ts';
import { cliJson, startManager } from './procs.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

test('killed between the record and the notification queue: the webhook gets the alert once after the restart', timed(90_000, async () => {
  const w = await startReceiver();
  closers.push(w.close);
  const dataDir = tempDir('hw-mgr-');
  const flags = ['--auto-accept', '--webhook', `${w.url}/hook`];
  const m1 = await startManager(flags, dataDir, { HOSTWATCH_FAULT: 'kill-after-alert-record' });
  closers.push(() => void m1.kill('SIGKILL'));
  const deps = drivenDeps();
  const agent = await testAgent(m1, deps, { name: 'crashy' });
  agents.push(agent);
  await waitFor(() => agent.connected, 20_000, 'connected');
  deps.cpu = 99;
  assert.is(await m1.exited, -1, `the manager killed itself at the fault point: ${m1.output().slice(-500)}`);
  assert.is(m1.child.signalCode, 'SIGKILL');
  const recorded = () => readEvents(dataDir).filter((e) => e.event === 'alert' && e.alert.type === 'CPU_HIGH' && e.alert.agent === 'crashy');
  assert.is(recorded().length, 1, 'the alert is in the record');
  assert.is(w.got.length, 0, 'nothing was sent before the kill');
  assert.ok(agent.pendingAlerts() >= 1, 'never acknowledged: the agent still has it');

  const m2 = await startManager([...flags, '--port', String(m1.tcpPort), '--udp-port', String(m1.udpPort)], dataDir);
  closers.push(() => void m2.kill());
  // The agent resends; the manager takes it as the duplicate it is and acknowledges it.
  await waitFor(() => agent.pendingAlerts() === 0, 30_000, 'the resend acknowledged');
  await waitFor(() => w.got.length >= 1, 30_000, 'the notification');
  await waitFor(async () => (await cliJson<any>(dataDir, ['notify', 'status'])).destinations[0].queued === 0, 20_000, 'nothing left to deliver');
  await new Promise((r) => setTimeout(r, 500)); // settle: a second delivery in flight would show now
  assert.equal(w.got.map((g) => `${g.json.alert.type}:${g.json.agent.name}:${g.json.status}`), ['CPU_HIGH:crashy:firing'], 'exactly one notification');
  assert.is(recorded().length, 1, 'and the record has the alert once');
  assert.match(m2.output(), /notify: 1 alert recorded before the manager stopped had not been queued for notification; queued now/);
}));

test.run();

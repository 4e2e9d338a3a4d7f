// The manager against the real Alertmanager: cpu_high firing then resolved (through its API and
// through the webhook receiver it notifies); the alerts raised while it was stopped arrive once it
// is back; a still-firing alert is learnt again after its own restart; and a manager killed with
// alerts still undelivered delivers them after its restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Backoff } from '../../common/util/backoff.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { startReceiver, type Receiver } from '../notify/receiver.helper.ts';
import { cleanupAfterEach, drivenDeps, serveTest, testAgent } from './inproc.helper.ts';
import { cli, cliJson, startManager } from './procs.helper.ts';
import { freePort, killDaemons, startAlertmanager, type Alertmanager } from './promstack.helper.ts';

const { agents, closers } = cleanupAfterEach(test);
test.after.each(() => killDaemons());

const fast = () => new Backoff({ baseMs: 100, capMs: 500 });

async function hook(): Promise<Receiver> {
  const r = await startReceiver();
  closers.push(r.close);
  return r;
}

/** What Alertmanager's webhook receiver got for alertname `name`: each notification's status. */
const notified = (r: Receiver, name: string) => r.got.flatMap((g) => (g.json?.alerts ?? []).filter((a: any) => a.labels.alertname === name).map((a: any) => a.status as string));
const active = async (am: Alertmanager, name: string) => (await am.alerts()).filter((a) => a.labels.alertname === name && a.status?.state === 'active');

test('cpu_high fires in Alertmanager with its labels, then resolves; its webhook receiver is told both; a second member gets the same', timed(60_000, async () => {
  const r = await hook();
  const am = await startAlertmanager(`${r.url}/am`);
  closers.push(() => am.stop());
  const r2 = await hook();
  const am2 = await startAlertmanager(`${r2.url}/am`);
  closers.push(() => am2.stop());
  const s = await serveTest({ notify: { alertmanagers: [am.url, am2.url], webhooks: [], webhookFormats: [], tuning: { backoff: fast } } });
  closers.push(s.close);
  const deps = drivenDeps();
  const agent = await testAgent(s, deps, { name: 'busy' });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected');
  deps.cpu = 99;
  const [alert] = await waitFor(() => active(am, 'cpu_high').then((l) => (l.length ? l : null)), 20_000, 'cpu_high active in Alertmanager');
  assert.equal(
    { alertname: alert.labels.alertname, agent: alert.labels.agent, agent_id: alert.labels.agent_id, severity: alert.labels.severity },
    { alertname: 'cpu_high', agent: 'busy', agent_id: agent.id, severity: 'warning' },
  );
  assert.match(alert.annotations.summary, 'CPU above 80% on busy');
  assert.is(alert.generatorURL, `http://127.0.0.1:${s.apiPort}/#/host/${encodeURIComponent(agent.id)}`, 'links to the host\'s dashboard page');
  await waitFor(() => notified(r, 'cpu_high').includes('firing'), 20_000, 'receiver told it fires');
  deps.cpu = 5;
  await waitFor(async () => (await active(am, 'cpu_high')).length === 0, 20_000, 'resolved in Alertmanager');
  await waitFor(() => notified(r, 'cpu_high').includes('resolved'), 20_000, 'receiver told it resolved');
  await waitFor(() => notified(r2, 'cpu_high').includes('firing') && notified(r2, 'cpu_high').includes('resolved'), 20_000, 'the other member too');
  // The receivers have it before the notifier has Alertmanager's answer: wait until it counts both.
  const st = await waitFor(() => {
    const d = s.notifier!.status().destinations[0]!;
    return d.sent >= 2 ? d : null;
  }, 10_000, 'firing and resolved counted as sent');
  assert.is(st.kind, 'alertmanager');
}));

test('alerts raised while Alertmanager is stopped arrive once it starts again', timed(60_000, async () => {
  const r = await hook();
  const port = await freePort(); // nobody listens there yet
  const s = await serveTest({ notify: { alertmanagers: [`http://127.0.0.1:${port}`], webhooks: [], webhookFormats: [], tuning: { backoff: fast } } });
  closers.push(s.close);
  const deps = drivenDeps();
  const agent = await testAgent(s, deps, { name: 'while-down' });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected');
  deps.cpu = 99;
  await waitFor(() => s.manager.state.alerts().some((a) => a.type === 'CPU_HIGH'), 5000, 'CPU_HIGH recorded');
  await waitFor(() => (s.notifier!.status().destinations[0]!.failed >= 2), 10_000, 'failed attempts');
  assert.is(s.notifier!.status().destinations[0]!.queued, 1);
  const am = await startAlertmanager(`${r.url}/am`, port);
  closers.push(() => am.stop());
  await waitFor(() => active(am, 'cpu_high').then((l) => l.length === 1), 20_000, 'cpu_high delivered once it is up');
  await waitFor(() => notified(r, 'cpu_high').includes('firing'), 20_000, 'and notified');
}));

test('after its own restart Alertmanager learns a still-firing alert again from the re-sends', timed(60_000, async () => {
  const r = await hook();
  let am = await startAlertmanager(`${r.url}/am`);
  closers.push(() => am.stop());
  const s = await serveTest({ notify: { alertmanagers: [am.url], webhooks: [], webhookFormats: [], tuning: { backoff: fast, resendMs: 1000 } } });
  closers.push(s.close);
  const deps = drivenDeps();
  const agent = await testAgent(s, deps, { name: 'still-hot' });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected');
  deps.cpu = 99;
  await waitFor(() => active(am, 'cpu_high').then((l) => l.length === 1), 20_000, 'cpu_high active');
  // Alertmanager has the alert before the notifier has its answer: wait until the notifier counts it.
  await waitFor(() => s.notifier!.status().destinations[0]!.sent >= 1, 10_000, 'the delivery counted as sent');
  await am.stop();
  const sentBefore = s.notifier!.status().destinations[0]!.sent;
  // Alertmanager keeps alerts in memory only: whatever the new one holds, it got after its start.
  am = await am.restart();
  await waitFor(() => active(am, 'cpu_high').then((l) => l.length === 1), 20_000, 'learnt again');
  await waitFor(() => s.notifier!.status().destinations[0]!.sent > sentBefore, 10_000, 're-sent to the new process, counted as sent');
  assert.is(s.manager.state.alerts().length, 1, 'from re-sends, not from a new alert');
}));

test('a manager killed with an alert undelivered delivers it after its restart (the outbox is on disk)', timed(90_000, async () => {
  const r = await hook();
  const port = await freePort();
  const dataDir = tempDir('hw-mgr-');
  const flags = ['--auto-accept', '--alertmanager', `http://127.0.0.1:${port}`];
  let mgr = await startManager(flags, dataDir);
  // An agent in this process (its CPU driven by the test) against the real manager program.
  const deps = drivenDeps();
  const agent = await testAgent(mgr, deps, { name: 'crash-test' });
  agents.push(agent);
  await waitFor(() => agent.connected, 10_000, 'connected');
  deps.cpu = 99;
  await waitFor(async () => (await cliJson<any[]>(dataDir, ['alerts'])).some((a) => a.type === 'CPU_HIGH'), 20_000, 'CPU_HIGH');
  const status = await waitFor(async () => {
    const j = await cliJson<any>(dataDir, ['notify', 'status']);
    return j.destinations[0].failed >= 1 ? j : null;
  }, 20_000, 'a failed attempt');
  assert.is(status.destinations[0].queued, 1);
  assert.match(status.destinations[0].lastError, /ECONNREFUSED|UNAVAILABLE|fetch failed/);
  const text = await cli(dataDir, ['notify', 'status']);
  assert.is(text.code, 0);
  assert.match(text.stdout, /alertmanager\s+http:\/\/127\.0\.0\.1:\d+\/\s+1\s+0/);
  await mgr.kill('SIGKILL');
  const am = await startAlertmanager(`${r.url}/am`, port);
  closers.push(() => am.stop());
  mgr = await startManager(flags, dataDir);
  const [got] = await waitFor(() => active(am, 'cpu_high').then((l) => (l.length ? l : null)), 20_000, 'cpu_high in Alertmanager after the restart').catch(async (err) => {
    const st = await cli(dataDir, ['notify', 'status', '--json']);
    throw new Error(`${(err as Error).message}; notify status: ${st.stdout}${st.stderr}; manager: ${mgr.output().slice(-1500)}; alertmanager: ${am.output().slice(-1000)}`);
  });
  assert.is(got.labels.agent, 'crash-test');
  await waitFor(() => notified(r, 'cpu_high').includes('firing'), 20_000, 'and notified');
  await mgr.kill();
}));

test.run();

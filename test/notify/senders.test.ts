// Alertmanager and webhook delivery against a real HTTP receiver: the wire shape, the re-sends of a
// firing alert and of a resolution, retries with backoff through failures and timeouts, and the
// HMAC signature.
import { createHmac } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Backoff } from '../../common/util/backoff.ts';
import { ManagerState } from '../../common/manager/state.ts';
import { alertsEndpoint } from '../../common/notify/alertmanager-sender.ts';
import { Notifier } from '../../common/notify/notifier.ts';
import { signBody } from '../../common/notify/webhook-sender.ts';
import { webhookTargets } from '../../common/notify/start.ts';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { startReceiver, type Receiver } from './receiver.helper.ts';

const test = suite('notify/senders');
const open: { close(): unknown }[] = [];
test.after.each(async () => {
  for (const c of open.splice(0)) await c.close();
});
test.after(() => cleanTempDirs());

function state(): ManagerState {
  const s = new ManagerState();
  s.agentUp({ id: 'id-1', name: 'web1', hostname: 'web1.lan', address: '10.0.0.5', platform: 'linux', arch: 'x64', version: '0.1.0', interval: 5, restartAllowed: false, filesEnabled: true, trust: 'accepted', fingerprint: 'AA' });
  return s;
}

let seq = 0;
const cpu = (s: ManagerState, type: 'CPU_HIGH' | 'CPU_NORMAL', value: number) => s.alert('id-1', { seq: ++seq, alert: type, value, threshold: 80, at: Date.now() }, 'udp');
const fastBackoff = () => new Backoff({ baseMs: 20, capMs: 100 });

function notifier(s: ManagerState, o: { am?: Receiver[]; hooks?: { url: string; format?: string }[]; dataDir?: string; resendMs?: number; resolvedResendMs?: number; timeoutMs?: number }): Notifier {
  const n = new Notifier({
    state: s, dataDir: o.dataDir ?? tempDir(), alertmanagers: (o.am ?? []).map((r) => r.url), secret: 'sixteen-chars-secret!',
    webhooks: webhookTargets((o.hooks ?? []).map((h) => h.url), (o.hooks ?? []).map((h) => h.format ?? 'json')),
    resendMs: o.resendMs ?? 60_000, resolvedResendMs: o.resolvedResendMs ?? 60_000, backoff: fastBackoff, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
  });
  n.start();
  open.push(n);
  return n;
}

test('Alertmanager: CPU_HIGH fires cpu_high with its labels and annotations, CPU_NORMAL resolves it; both members get both', timed(10_000, async () => {
  const a = await startReceiver();
  const b = await startReceiver();
  open.push(a, b);
  const s = state();
  notifier(s, { am: [a, b] });
  cpu(s, 'CPU_HIGH', 97);
  for (const r of [a, b]) await waitFor(() => r.got.length === 1, 5000, 'firing');
  const [fired] = a.got[0]!.json;
  assert.is(a.got[0]!.path, '/api/v2/alerts');
  assert.equal(fired.labels, { alertname: 'cpu_high', agent: 'web1', agent_id: 'id-1', severity: 'warning' });
  assert.match(fired.annotations.summary, 'CPU above 80% on web1');
  assert.match(fired.annotations.description, '97%');
  const ahead = Date.parse(fired.endsAt) - Date.now();
  assert.ok(ahead > 3.5 * 60_000 && ahead <= 4 * 60_000, `endsAt four resend periods ahead (${ahead} ms)`);
  cpu(s, 'CPU_NORMAL', 12);
  for (const r of [a, b]) await waitFor(() => r.got.length === 2, 5000, 'resolved');
  const [resolved] = b.got[1]!.json;
  assert.equal(resolved.labels, fired.labels, 'the same alert, by its labels');
  assert.is(resolved.startsAt, fired.startsAt);
  assert.ok(Date.parse(resolved.endsAt) <= Date.now(), 'a resolution is endsAt in the past');
  assert.match(resolved.annotations.summary, 'back below');
}));

test('Alertmanager: a firing alert is re-sent every period; a resolution is re-sent for a while, then dropped', timed(10_000, async () => {
  const a = await startReceiver();
  open.push(a);
  const s = state();
  const n = notifier(s, { am: [a], resendMs: 100, resolvedResendMs: 1000 });
  cpu(s, 'CPU_HIGH', 97);
  await waitFor(() => a.got.length >= 3, 5000, 'three sends while firing');
  const ends = a.got.map((g) => Date.parse(g.json[0].endsAt));
  assert.ok(ends[2]! > ends[0]!, 'endsAt moves forward with each re-send');
  cpu(s, 'CPU_NORMAL', 5);
  const before = a.got.length;
  await waitFor(() => n.outbox.count() === 0, 5000, 'resolution dropped after its window');
  const resolvedSends = a.got.slice(before).filter((g) => Date.parse(g.json[0].endsAt) <= g.at);
  assert.ok(resolvedSends.length >= 2, `resolution re-sent (${resolvedSends.length} times)`);
  await n.settled();
  assert.is(n.status().destinations[0]!.nextAttemptAt, null, 'nothing more is scheduled once it is dropped');
}));

test('Alertmanager: the alerts of a revoked agent are resolved, not re-sent as firing forever', timed(10_000, async () => {
  const a = await startReceiver();
  open.push(a);
  const s = state();
  const n = notifier(s, { am: [a] });
  cpu(s, 'CPU_HIGH', 97);
  await waitFor(() => a.got.length === 1, 5000, 'firing');
  s.remove('id-1'); // dropped while the manager reads its record back: not a revocation
  await n.settled();
  assert.is((n.outbox.list(n.status().destinations[0]!.name)[0]!.body as any).state, 'firing');
  s.agentUp({ id: 'id-1', name: 'web1', hostname: 'web1.lan', address: '10.0.0.5', platform: 'linux', arch: 'x64', version: '0.1.0', interval: 5, restartAllowed: false, filesEnabled: true, trust: 'accepted', fingerprint: 'AA' });
  n.watchRevocations();
  s.remove('id-1');
  await waitFor(() => a.got.length === 2, 5000, 'resolved');
  const [r] = a.got[1]!.json;
  assert.is(r.labels.alertname, 'cpu_high');
  assert.ok(Date.parse(r.endsAt) <= Date.now());
  assert.is((n.outbox.list(n.status().destinations[0]!.name)[0]!.body as any).state, 'resolved');
}));

test('Alertmanager: failing, dropping and hanging answers are retried with backoff until it takes the alert', timed(10_000, async () => {
  const a = await startReceiver();
  open.push(a);
  a.failures.push(500, 'drop', 'hang', 503);
  const s = state();
  const n = notifier(s, { am: [a], timeoutMs: 300 });
  cpu(s, 'CPU_HIGH', 97);
  await waitFor(() => a.got.length === 1, 8000, 'delivered after the failures');
  assert.is(a.attempts, 5);
  const st = await waitFor(() => {
    const d = n.status().destinations[0]!;
    return d.sent === 1 ? d : null;
  }, 5000, 'the delivery counted as sent');
  assert.is(st.failed, 4);
  assert.is(st.sent, 1);
  assert.type(st.lastSuccessAt, 'string');
  assert.match(st.lastError ?? '', /HTTP 503|timeout|no answer/i);
  assert.is(alertsEndpoint('http://am:9093/'), 'http://am:9093/api/v2/alerts');
  assert.is(alertsEndpoint('http://am:9093/x/api/v2/alerts'), 'http://am:9093/x/api/v2/alerts');
}));

test('webhook: one signed POST per alert, in order, with a unique event id, retried until 2xx', timed(10_000, async () => {
  const w = await startReceiver();
  open.push(w);
  w.failures.push(500, 'drop', 502);
  const s = state();
  notifier(s, { hooks: [{ url: `${w.url}/hook` }] });
  cpu(s, 'CPU_HIGH', 97);
  cpu(s, 'CPU_NORMAL', 3);
  s.managerAlert(s.agent('id-1')!, 'AGENT_DOWN', 0);
  await waitFor(() => w.got.length === 3, 8000, 'three events');
  assert.equal(w.got.map((g) => [g.json.alert.type, g.json.status, g.json.alertname]), [
    ['CPU_HIGH', 'firing', 'cpu_high'], ['CPU_NORMAL', 'resolved', 'cpu_high'], ['AGENT_DOWN', 'firing', 'agent_down'],
  ]);
  const ids = new Set(w.got.map((g) => g.json.id));
  assert.is(ids.size, 3);
  for (const g of w.got) {
    const expect = `sha256=${createHmac('sha256', 'sixteen-chars-secret!').update(g.body).digest('hex')}`;
    assert.is(g.headers['x-hostwatch-signature'], expect);
    assert.is(g.headers['x-hostwatch-event'], g.json.id);
    assert.is(g.json.version, 1);
    assert.equal(g.json.agent, { id: 'id-1', name: 'web1', hostname: 'web1.lan', address: '10.0.0.5', platform: 'linux' });
  }
  assert.is(w.got[0]!.json.alert.value, 97);
  assert.is(w.got[0]!.json.alert.threshold, 80);
  assert.is(signBody('k', 'body'), `sha256=${createHmac('sha256', 'k').update('body').digest('hex')}`);
}));

test('webhook: an event refused with a 4xx is retried, then set aside and recorded, so the next gets through; 429 is only a retry', timed(10_000, async () => {
  const w = await startReceiver();
  open.push(w);
  // The first event is refused for good (404 five times); a 429 before the second is a retry, not a refusal.
  w.failures.push(404, 404, 404, 404, 404, 429);
  const s = state();
  const events: { event: string; id?: string; error?: string }[] = [];
  s.on('event', (e: { event: string }) => events.push(e));
  const n = notifier(s, { hooks: [{ url: `${w.url}/hook` }] });
  cpu(s, 'CPU_HIGH', 97);
  cpu(s, 'CPU_NORMAL', 3);
  await waitFor(() => w.got.length === 1, 8000, 'the second event');
  assert.is(w.got[0]!.json.alert.type, 'CPU_NORMAL');
  assert.is(w.attempts, 7);
  const rejected = events.filter((e) => e.event === 'notify-rejected');
  assert.is(rejected.length, 1);
  assert.match(rejected[0]!.error!, 'HTTP 404');
  // The receiver has the body before the sender has its answer: wait until the sender counts it.
  const st = await waitFor(() => {
    const d = n.status().destinations[0]!;
    return d.sent === 1 ? d : null;
  }, 5000, 'the second event counted as sent');
  assert.is(st.rejected, 1);
  assert.is(st.sent, 1);
  assert.is(st.queued, 0);
}));

test('webhook formats: Slack gets text, Discord content; a bad format or count is a BAD_FLAG', timed(10_000, async () => {
  const sl = await startReceiver();
  const dc = await startReceiver();
  open.push(sl, dc);
  const s = state();
  notifier(s, { hooks: [{ url: sl.url, format: 'slack' }, { url: dc.url, format: 'discord' }] });
  cpu(s, 'CPU_HIGH', 91);
  await waitFor(() => sl.got.length === 1 && dc.got.length === 1, 5000, 'both');
  assert.match(sl.got[0]!.json.text, /^\[FIRING\] CPU above 80% on web1/);
  assert.match(dc.got[0]!.json.content, /^\[FIRING\] CPU above 80% on web1/);
  assert.throws(() => webhookTargets(['http://x'], ['teams']), (e: any) => e.code === 'BAD_FLAG');
  assert.throws(() => webhookTargets(['http://x', 'http://y', 'http://z'], ['slack', 'json']), (e: any) => e.code === 'BAD_FLAG');
  assert.throws(() => webhookTargets(['ftp://x'], []), (e: any) => e.code === 'BAD_FLAG');
}));

test('a hostile agent name reaches Slack and Discord inert, the JSON webhook as it is', timed(10_000, async () => {
  const [sl, dc, js] = [await startReceiver(), await startReceiver(), await startReceiver()];
  open.push(sl, dc, js);
  const hostile = '<!channel> @everyone **x** \u001b[2J';
  const s = new ManagerState();
  s.agentUp({ id: 'id-1', name: hostile, hostname: 'h', address: '10.0.0.5', platform: 'linux', arch: 'x64', version: '0.1.0', interval: 5, restartAllowed: false, filesEnabled: true, trust: 'accepted', fingerprint: 'AA' });
  notifier(s, { hooks: [{ url: sl.url, format: 'slack' }, { url: dc.url, format: 'discord' }, { url: js.url, format: 'json' }] });
  cpu(s, 'CPU_HIGH', 91);
  await waitFor(() => sl.got.length === 1 && dc.got.length === 1 && js.got.length === 1, 5000, 'all three');
  const slack = sl.got[0]!.json;
  assert.is(slack.text.split('\n')[0], '[FIRING] CPU above 80% on &lt;!channel&gt; @everyone **x** \uFFFD[2J');
  assert.is(slack.mrkdwn, false);
  const discord = dc.got[0]!.json;
  assert.is(discord.content.split('\n')[0], '[FIRING] CPU above 80% on \\<!channel\\> @\u200beveryone \\*\\*x\\*\\* \uFFFD\\[2J');
  assert.equal(discord.allowed_mentions, { parse: [] });
  assert.is(js.got[0]!.json.agent.name, hostile);
  assert.ok(js.got[0]!.body.includes('\\u001b'), 'JSON escapes the control character itself');
}));

test('status: admins see URLs without credentials, viewers scheme://host:port; a failure\'s message carries neither', timed(10_000, async () => {
  const am = await startReceiver();
  const wh = await startReceiver();
  open.push(am, wh);
  // Both echo the request line and its Authorization header back in a 500.
  for (const r of [am, wh]) r.answer = (req, res) => void res.writeHead(500).end(`${req.method} ${req.url} auth=${req.headers.authorization}`);
  const s = state();
  const amUrl = `http://ops:am-pass-123@127.0.0.1:${am.port}/am?token=tok-456`;
  const whUrl = `${wh.url}/services/T000/B000/secret-path-789`;
  const n = new Notifier({ state: s, dataDir: tempDir(), alertmanagers: [amUrl], webhooks: webhookTargets([whUrl], ['slack']), secret: 'sixteen-chars-secret!', backoff: fastBackoff });
  n.start();
  open.push(n);
  cpu(s, 'CPU_HIGH', 97);
  const st = await waitFor(() => {
    const v = n.status();
    return v.destinations.every((d) => d.failed >= 1) ? v : null;
  }, 5000, 'both failed once');
  assert.equal(st.destinations.map((d) => d.url), [`http://127.0.0.1:${am.port}/am`, `${wh.url}/…`]);
  assert.equal(n.status({ redact: true }).destinations.map((d) => d.url), [`http://127.0.0.1:${am.port}`, `http://127.0.0.1:${wh.port}`]);
  assert.equal(n.redactedStatus().destinations.map((d) => d.url), n.status({ redact: true }).destinations.map((d) => d.url));
  for (const d of st.destinations) {
    assert.is(d.lastErrorCode, 'UNAVAILABLE');
    assert.match(d.lastError ?? '', /^HTTP 500: POST /);
    for (const leak of ['am-pass-123', 'tok-456', 'secret-path-789', 'b3BzOmFtLXBhc3MtMTIz']) assert.not.ok(d.lastError!.includes(leak), `${leak} in ${d.lastError}`);
  }
  assert.match(st.destinations[0]!.lastError!, 'auth=Basic ***');
}));

test('notified as ManagerState records: a resent alert (same epoch and seq) once, the same seq of a new epoch again', timed(10_000, async () => {
  const w = await startReceiver();
  open.push(w);
  const s = state();
  notifier(s, { hooks: [{ url: w.url }] });
  const a = (epoch: string, n: number, type = 'CPU_HIGH') => s.alert('id-1', { epoch, seq: n, alert: type, value: 95, threshold: 80, at: Date.now() }, 'tcp');
  assert.is(a('e1', 1), true);
  assert.is(a('e1', 1), false, 'the resend over TCP of what came over UDP');
  assert.is(a('e2', 1), true, 'the agent lost alerts.json: a new epoch from seq 1 is not a duplicate');
  // In order: once the last one is in, anything the duplicate caused would have arrived before it.
  assert.is(a('e2', 2, 'CPU_NORMAL'), true);
  await waitFor(() => w.got.some((g) => g.json.alert.type === 'CPU_NORMAL'), 5000, 'the last event');
  assert.equal(w.got.map((g) => [g.json.alert.type, g.json.alert.seq]), [['CPU_HIGH', 1], ['CPU_HIGH', 1], ['CPU_NORMAL', 2]]);
  assert.is(new Set(w.got.map((g) => g.json.id)).size, 3);
}));

test('a restart of the notifier delivers what the outbox still held', timed(10_000, async () => {
  const w = await startReceiver();
  open.push(w);
  const dataDir = tempDir();
  w.failures.push(...Array(1000).fill(503));
  const s = state();
  const n = notifier(s, { hooks: [{ url: w.url }], dataDir });
  cpu(s, 'CPU_HIGH', 97);
  cpu(s, 'CPU_NORMAL', 4);
  await waitFor(() => w.attempts >= 2, 5000, 'failing attempts');
  await n.close();
  // An attempt in flight at close still ends (refused here); were the failures cleared before it
  // reached the receiver, it would deliver a third copy (close() does not abort it, by design).
  await n.settled();
  w.failures.length = 0;
  const again = notifier(state(), { hooks: [{ url: w.url }], dataDir });
  await waitFor(() => w.got.length === 2, 5000, 'both after the restart');
  assert.equal(w.got.map((g) => g.json.alert.type), ['CPU_HIGH', 'CPU_NORMAL']);
  // The receiver has the body before the sender has its answer: wait until the sender has dropped it.
  await waitFor(() => again.status().destinations[0]!.queued === 0, 5000, 'nothing left queued');
}));

test.run();

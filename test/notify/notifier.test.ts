// The notifier's part in "nothing lost": an agent's alert is fsynced in the outbox before the
// manager acknowledges it, and an alert recorded but never queued (the manager killed in between)
// is queued at the next start, once; an outbox without a mark sends no history.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { LoggedEvent } from '../../common/manager/event-log.ts';
import { ManagerState } from '../../common/manager/state.ts';
import { Notifier } from '../../common/notify/notifier.ts';
import { webhookTargets } from '../../common/notify/start.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

const test = suite('notify/notifier');
const open: Notifier[] = [];
test.after.each(async () => {
  for (const n of open.splice(0)) await n.close();
});
test.after(() => cleanTempDirs());

/** Refused at once: what is queued for it stays queued. */
const HOOK = 'http://127.0.0.1:1/hook';

function state(events?: LoggedEvent[]): ManagerState {
  const s = new ManagerState();
  s.agentUp({ id: 'id-1', name: 'web1', hostname: 'web1.lan', address: '10.0.0.5', platform: 'linux', arch: 'x64', version: '0.1.0', interval: 5, restartAllowed: false, filesEnabled: true, trust: 'accepted', fingerprint: 'AA' });
  if (events) s.on('event', (e) => events.push(e));
  return s;
}

let seq = 0;
const cpu = (s: ManagerState, type: 'CPU_HIGH' | 'CPU_NORMAL') => s.alert('id-1', { epoch: 'e1', seq: ++seq, alert: type, value: type === 'CPU_HIGH' ? 97 : 12, threshold: 80, at: Date.now() }, 'udp');

function notifier(s: ManagerState, dataDir: string, notes: string[] = []): Notifier {
  const n = new Notifier({ state: s, dataDir, alertmanagers: [], webhooks: webhookTargets([HOOK], ['json']), secret: 'sixteen-chars-secret!', notice: (l) => notes.push(l) });
  n.start();
  open.push(n);
  return n;
}

/** The alert numbers of the webhook events queued, oldest first. */
const queuedNs = (n: Notifier) => n.status().destinations.flatMap((d) => n.outbox.list(d.name)).map((i) => (i.body as any).payload.alert.n);

test('an agent\'s alert is fsynced in the outbox before the intake returns (then acknowledged); the manager\'s own share the next turn\'s', () => {
  const s = state();
  const n = notifier(s, tempDir());
  n.queueMissed();
  let synced = 0;
  const sync = n.outbox.sync.bind(n.outbox);
  n.outbox.sync = () => {
    synced++;
    sync();
  };
  cpu(s, 'CPU_HIGH');
  assert.is(synced, 1, 'synced inside the intake');
  assert.equal(queuedNs(n), [1]);
  assert.is(n.outbox.mark, 1);
  s.managerAlert(s.agent('id-1')!, 'AGENT_DOWN', 0);
  assert.is(synced, 1, 'AGENT_DOWN waits for the batched sync');
  assert.is(n.outbox.mark, 2);
});

test('killed between the record and the queue: the alert is queued at the next start, once; a silenced one stays held back', async () => {
  const dataDir = tempDir();
  const events: LoggedEvent[] = [];
  const s1 = state(events);
  const n1 = notifier(s1, dataDir);
  assert.is(n1.queueMissed(), 0, 'nothing recorded yet');
  cpu(s1, 'CPU_HIGH'); // n 1: queued
  await n1.close();
  open.splice(0);
  cpu(s1, 'CPU_NORMAL'); // n 2: recorded, never queued (the manager died here)
  const last = events.at(-1)!;
  events.push({ ...last, alert: { ...(last.alert as object), seq: ++seq, n: 3, silenced: 'silence-1' } }); // n 3: recorded, silenced

  const notes: string[] = [];
  const s2 = state();
  s2.restore(events);
  assert.equal(s2.alerts().map((a) => a.n), [1, 2, 3], 'numbers as recorded');
  const n2 = notifier(s2, dataDir, notes);
  assert.equal(queuedNs(n2), [1], 'the undelivered one from before');
  assert.is(n2.outbox.mark, 1);
  assert.is(n2.queueMissed(), 1);
  assert.equal(queuedNs(n2), [1, 2], 'the missed one queued, not the silenced one');
  assert.is(n2.outbox.mark, 3);
  assert.equal(notes, ['notify: 1 alert recorded before the manager stopped had not been queued for notification; queued now']);
  await n2.close();
  open.splice(0);

  const s3 = state();
  s3.restore(events);
  const n3 = notifier(s3, dataDir);
  assert.is(n3.queueMissed(), 0, 'a second start queues nothing again');
  assert.equal(queuedNs(n3), [1, 2]);
});

test('an outbox without a mark (new, or from before marks) sends no history; an alert queued live before queueMissed is not queued twice', async () => {
  const events: LoggedEvent[] = [];
  const s1 = state(events);
  cpu(s1, 'CPU_HIGH');
  cpu(s1, 'CPU_NORMAL');
  const s2 = state();
  s2.restore(events);
  const dataDir = tempDir();
  const n = notifier(s2, dataDir);
  assert.is(n.queueMissed(), 0);
  assert.equal(queuedNs(n), [], 'history is not sent');
  assert.is(n.outbox.mark, 2, 'the mark is now the newest recorded');
  await n.close();
  open.splice(0);

  // The last run missed n 3; an alert (n 4) arrives before queueMissed runs.
  const s3 = state(events);
  s3.restore(events);
  cpu(s3, 'CPU_HIGH');
  const s4 = state();
  s4.restore(events);
  const m = notifier(s4, dataDir);
  cpu(s4, 'CPU_NORMAL');
  assert.equal(queuedNs(m), [4]);
  assert.is(m.outbox.mark, 2, 'the mark waits for queueMissed');
  assert.is(m.queueMissed(), 1);
  assert.equal(queuedNs(m), [4, 3]);
  assert.is(m.outbox.mark, 4);
});

test.run();

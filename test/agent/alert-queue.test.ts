// Unacknowledged alerts on disk: sequence numbers that survive a restart, an epoch that changes
// only when the file is created afresh, acks matched on epoch and seq, a bound with a count of
// what was dropped, atomic writes, a broken file failing closed, and a disk that refuses writes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERT_QUEUE_MAX, AlertQueue } from '../../common/agent/alert-queue.ts';
import { parseAgentMessage } from '../../common/wire/messages.ts';
import { cleanTempDirs, codeOf, tempDir } from '../harness.helper.ts';
import { FakeTimers, failingWrite } from '../fs/failing-fs.helper.ts';

const test = suite('agent/alert-queue');
test.after.each(() => cleanTempDirs());

const high = (at: number) => ({ alert: 'CPU_HIGH' as const, value: 91.5, threshold: 80, at });
const onDisk = (dir: string) => JSON.parse(readFileSync(join(dir, 'alerts.json'), 'utf8'));

test('seq starts at 1 and increments; the alert is returned whole, with its epoch', () => {
  const q = new AlertQueue({ stateDir: tempDir(), newEpoch: () => 'e-1' });
  assert.equal(q.add(high(100)), { type: 'alert', epoch: 'e-1', seq: 1, alert: 'CPU_HIGH', value: 91.5, threshold: 80, at: 100 });
  assert.is(q.add(high(101)).seq, 2);
  assert.is(q.add({ alert: 'CPU_NORMAL', value: 20, threshold: 80, at: 102 }).seq, 3);
  assert.equal(q.pending().map((a) => a.seq), [1, 2, 3]);
  assert.is(q.dropped, 0);
  // What goes on the wire passes the manager's validation, epoch included.
  assert.equal(parseAgentMessage(JSON.stringify(q.pending()[0])), q.pending()[0]);
});

test('the epoch is drawn when the file is created and written before any alert', () => {
  const dir = tempDir();
  const q = new AlertQueue({ stateDir: dir });
  assert.match(q.epoch, /^[0-9a-f-]{36}$/);
  assert.equal(onDisk(dir), { epoch: q.epoch, nextSeq: 1, pending: [], dropped: 0 });
  assert.is(new AlertQueue({ stateDir: dir }).epoch, q.epoch, 'read back, not drawn again');
});

test('pending alerts, the seq counter and the epoch survive a new AlertQueue on the same folder', () => {
  const dir = tempDir();
  const q = new AlertQueue({ stateDir: dir });
  q.add(high(1));
  q.add(high(2));
  q.add(high(3));
  q.ack(2, q.epoch);
  const again = new AlertQueue({ stateDir: dir });
  assert.is(again.epoch, q.epoch);
  assert.equal(again.pending().map((a) => [a.epoch, a.seq, a.at]), [[q.epoch, 1, 1], [q.epoch, 3, 3]]);
  // Numbering continues: a restarted agent never reuses a seq the manager already saw.
  assert.is(again.add(high(4)).seq, 4);
  assert.is(new AlertQueue({ stateDir: dir }).add(high(5)).seq, 5);
});

test('a lost alerts.json starts a new epoch with seq 1: (epoch, seq) never repeats', () => {
  const dir = tempDir();
  const first = new AlertQueue({ stateDir: dir });
  const seen = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const a = first.add(high(i));
    seen.add(`${a.epoch}/${a.seq}`);
  }
  rmSync(join(dir, 'alerts.json'));
  const reset = new AlertQueue({ stateDir: dir });
  assert.is.not(reset.epoch, first.epoch);
  const a = reset.add(high(9));
  assert.is(a.seq, 1, 'the counter starts again');
  assert.is(a.epoch, reset.epoch);
  assert.not.ok(seen.has(`${a.epoch}/${a.seq}`), 'but is not taken for an alert already seen');
});

test('ack matches epoch and seq; an ack without epoch (an older manager) matches by seq', () => {
  const dir = tempDir();
  const q = new AlertQueue({ stateDir: dir, newEpoch: () => 'now' });
  for (let i = 1; i <= 4; i++) q.add(high(i));
  assert.is(q.ack(3, 'another-epoch'), false, 'an ack for another epoch removes nothing');
  assert.is(q.ack(3, 'now'), true);
  assert.is(q.ack(3, 'now'), false);
  assert.is(q.ack(99, 'now'), false);
  assert.is(q.ack(1, undefined), true, 'no epoch: the current one');
  assert.equal(q.pending().map((a) => a.seq), [2, 4]);
  assert.equal(new AlertQueue({ stateDir: dir }).pending().map((a) => a.seq), [2, 4], 'persisted');
});

test('an exact ack (signed, over UDP) needs the alert\'s own epoch: none matches only an alert without one', () => {
  const dir = tempDir();
  const legacy = { type: 'alert', seq: 7, alert: 'CPU_HIGH', value: 90, threshold: 80, at: 1 };
  writeFileSync(join(dir, 'alerts.json'), JSON.stringify({ nextSeq: 8, pending: [legacy], dropped: 0 }));
  const q = new AlertQueue({ stateDir: dir, newEpoch: () => 'fresh' });
  q.add(high(2)); // seq 8, epoch 'fresh'
  assert.is(q.ack(8, undefined, true), false, 'no epoch does not name an alert that has one');
  assert.is(q.ack(8, 'other', true), false);
  assert.is(q.ack(7, 'fresh', true), false, 'an epoch does not name an alert without one');
  assert.equal(q.pending().map((a) => a.seq), [7, 8]);
  assert.is(q.ack(8, 'fresh', true), true);
  assert.is(q.ack(7, undefined, true), true);
  assert.equal(q.pending(), []);
});

test('a file from before epochs: its pending alerts keep no epoch, the counter goes on in a new epoch', () => {
  const dir = tempDir();
  const legacy = { type: 'alert', seq: 7, alert: 'CPU_HIGH', value: 90, threshold: 80, at: 1 };
  writeFileSync(join(dir, 'alerts.json'), JSON.stringify({ nextSeq: 8, pending: [legacy], dropped: 0 }));
  const q = new AlertQueue({ stateDir: dir, newEpoch: () => 'fresh' });
  assert.is(q.epoch, 'fresh');
  assert.equal(q.pending(), [legacy], 'sent again exactly as before');
  assert.equal(q.add(high(2)), { type: 'alert', epoch: 'fresh', seq: 8, ...high(2) });
  assert.is(onDisk(dir).epoch, 'fresh');
  assert.ok(q.ack(7, undefined), 'an ack without epoch removes the old one');
});

/**
 * Every add() is an fsync'd rewrite; a thousand of them on a real disk take seconds, so the bound
 * test uses RAM-backed /dev/shm where there is one (the code path is the same).
 */
function fastDir(): string {
  if (!existsSync('/dev/shm')) return tempDir();
  const dir = mkdtempSync('/dev/shm/hw-alertq-');
  shm.push(dir);
  return dir;
}
const shm: string[] = [];
test.after.each(() => {
  for (const d of shm.splice(0)) rmSync(d, { recursive: true, force: true });
});

test(`bounded at ALERT_QUEUE_MAX (${ALERT_QUEUE_MAX}): oldest dropped and counted, across restarts`, () => {
  const dir = fastDir();
  const q = new AlertQueue({ stateDir: dir });
  const extra = 25;
  for (let i = 1; i <= ALERT_QUEUE_MAX + extra; i++) q.add(high(i));
  assert.is(q.pending().length, ALERT_QUEUE_MAX);
  assert.is(q.dropped, extra);
  assert.is(q.pending()[0]!.seq, extra + 1);
  assert.is(q.pending().at(-1)!.seq, ALERT_QUEUE_MAX + extra);
  const again = new AlertQueue({ stateDir: dir });
  assert.is(again.dropped, extra);
  assert.is(again.pending().length, ALERT_QUEUE_MAX);
  again.add(high(0));
  assert.is(again.dropped, extra + 1);
  // The file stays bounded too.
  assert.ok(statSync(join(dir, 'alerts.json')).size < (ALERT_QUEUE_MAX + 1) * 250);
});

test('written atomically: alerts.json only, no temporary file left, private mode, valid JSON', () => {
  const dir = tempDir();
  const q = new AlertQueue({ stateDir: dir });
  for (let i = 1; i <= 20; i++) {
    q.add(high(i));
    if (i % 3 === 0) q.ack(i - 1, q.epoch);
  }
  assert.equal(readdirSync(dir), ['alerts.json']);
  const file = join(dir, 'alerts.json');
  if (process.platform !== 'win32') assert.is(statSync(file).mode & 0o777, 0o600);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.is(saved.nextSeq, 21);
  assert.is(saved.epoch, q.epoch);
  assert.equal(saved.pending.map((a: { seq: number }) => a.seq), q.pending().map((a) => a.seq));
});

test('no state folder: works in memory, writes nothing', () => {
  const q = new AlertQueue();
  assert.is(q.add(high(1)).seq, 1);
  assert.is(q.add(high(2)).seq, 2);
  assert.ok(q.ack(1, q.epoch));
  assert.equal(q.pending().map((a) => a.seq), [2]);
});

test('a broken alerts.json fails closed (STATE_CORRUPT naming the file and the fix), left as it was', () => {
  const dir = tempDir();
  const path = join(dir, 'alerts.json');
  const broken = [
    '{not json', '[]', '{"nextSeq":"x","pending":[]}', '{"nextSeq":0,"pending":[]}', '{"nextSeq":3}',
    '{"epoch":"a b","nextSeq":3,"pending":[]}', '{"epoch":"e","nextSeq":3,"pending":[{"type":"alert","seq":1}]}',
    '{"epoch":"e","nextSeq":2,"pending":[{"type":"alert","epoch":"e","seq":5,"alert":"CPU_HIGH","value":1,"threshold":2,"at":3}]}',
  ];
  for (const text of broken) {
    writeFileSync(path, text);
    let message = '';
    assert.is(codeOf(() => {
      try {
        new AlertQueue({ stateDir: dir });
      } catch (err) {
        message = (err as Error).message;
        throw err;
      }
    }), 'STATE_CORRUPT', text);
    assert.ok(message.includes(path), message);
    assert.match(message, /move it away/);
    assert.is(readFileSync(path, 'utf8'), text, 'not overwritten with a new epoch');
  }
});

test('EIO on every write: add() does not throw, alerts stay pending in memory, one log line, the write is retried', () => {
  const dir = tempDir();
  const fs = failingWrite('EIO');
  const timers = new FakeTimers();
  const log: string[] = [];
  const q = new AlertQueue({ stateDir: dir, write: fs.write, timers, retryMs: 1000, log: (l) => log.push(l), newEpoch: () => 'io' });
  assert.not.ok(existsSync(join(dir, 'alerts.json')), 'the first write failed');
  assert.ok(q.unsaved);
  for (let i = 1; i <= 5; i++) q.add(high(i));
  q.ack(2, 'io');
  assert.equal(q.pending().map((a) => a.seq), [1, 3, 4, 5], 'kept in memory');
  for (let i = 0; i < 100; i++) timers.advance(1000);
  assert.ok(fs.attempts >= 100, `retried (${fs.attempts} attempts)`);
  assert.is(log.length, 1, log.join('\n'));
  assert.match(log[0]!, /alerts\.json: EIO \(disk error\) \[STORAGE_FAILED\]; keeping it in memory/);
  fs.heal();
  timers.advance(1000);
  assert.not.ok(q.unsaved);
  assert.equal(onDisk(dir), { epoch: 'io', nextSeq: 6, pending: q.pending(), dropped: 0 }, 'the file caught up');
  assert.is(log.length, 2);
  assert.match(log[1]!, /wrote .*alerts\.json again \(after 10\d failed attempts\)/);
  assert.is(timers.pending, 0, 'no retry left once written');
});

test('ENOSPC then space again: nothing retried between, the newest state is what lands', () => {
  const dir = tempDir();
  const fs = failingWrite('ENOSPC');
  const timers = new FakeTimers();
  const q = new AlertQueue({ stateDir: dir, write: fs.write, timers, retryMs: 500 });
  const before = fs.attempts;
  q.add(high(1));
  q.add(high(2));
  assert.is(fs.attempts, before, 'while failing, an add waits for the retry instead of hammering the disk');
  fs.heal();
  timers.advance(500);
  assert.equal(onDisk(dir).pending.map((a: { seq: number }) => a.seq), [1, 2]);
  q.add(high(3));
  assert.equal(onDisk(dir).pending.map((a: { seq: number }) => a.seq), [1, 2, 3], 'written at once again');
});

test('close() tries the unwritten state once more and stops retrying', () => {
  const dir = tempDir();
  const fs = failingWrite('EROFS');
  const timers = new FakeTimers();
  const q = new AlertQueue({ stateDir: dir, write: fs.write, timers });
  q.add(high(1));
  fs.heal();
  q.close();
  assert.is(onDisk(dir).pending.length, 1);
  assert.is(timers.pending, 0);
});

test.run();

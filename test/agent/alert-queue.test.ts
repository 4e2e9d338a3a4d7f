// Unacknowledged alerts on disk: sequence numbers that survive a restart, acks that remove,
// a bound with a count of what was dropped, and atomic writes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERT_QUEUE_MAX, AlertQueue } from '../../common/agent/alert-queue.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

const test = suite('agent/alert-queue');
test.after.each(() => cleanTempDirs());

const high = (at: number) => ({ alert: 'CPU_HIGH' as const, value: 91.5, threshold: 80, at });

test('seq starts at 1 and increments; the alert is returned whole', () => {
  const q = new AlertQueue(tempDir());
  assert.equal(q.add(high(100)), { type: 'alert', seq: 1, alert: 'CPU_HIGH', value: 91.5, threshold: 80, at: 100 });
  assert.is(q.add(high(101)).seq, 2);
  assert.is(q.add({ alert: 'CPU_NORMAL', value: 20, threshold: 80, at: 102 }).seq, 3);
  assert.equal(q.pending().map((a) => a.seq), [1, 2, 3]);
  assert.is(q.dropped, 0);
});

test('pending alerts and the seq counter survive a new AlertQueue on the same folder', () => {
  const dir = tempDir();
  const q = new AlertQueue(dir);
  q.add(high(1));
  q.add(high(2));
  q.add(high(3));
  q.ack(2);
  const again = new AlertQueue(dir);
  assert.equal(again.pending().map((a) => [a.seq, a.at]), [[1, 1], [3, 3]]);
  // Numbering continues: a restarted agent never reuses a seq the manager already saw.
  assert.is(again.add(high(4)).seq, 4);
  assert.is(new AlertQueue(dir).add(high(5)).seq, 5);
});

test('ack removes exactly that seq, is persisted, and reports unknown seqs', () => {
  const dir = tempDir();
  const q = new AlertQueue(dir);
  for (let i = 1; i <= 4; i++) q.add(high(i));
  assert.is(q.ack(3), true);
  assert.is(q.ack(3), false);
  assert.is(q.ack(99), false);
  assert.equal(q.pending().map((a) => a.seq), [1, 2, 4]);
  assert.is(q.ack(1), true);
  assert.equal(new AlertQueue(dir).pending().map((a) => a.seq), [2, 4]);
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
  const q = new AlertQueue(dir);
  const extra = 25;
  for (let i = 1; i <= ALERT_QUEUE_MAX + extra; i++) q.add(high(i));
  assert.is(q.pending().length, ALERT_QUEUE_MAX);
  assert.is(q.dropped, extra);
  assert.is(q.pending()[0]!.seq, extra + 1);
  assert.is(q.pending().at(-1)!.seq, ALERT_QUEUE_MAX + extra);
  const again = new AlertQueue(dir);
  assert.is(again.dropped, extra);
  assert.is(again.pending().length, ALERT_QUEUE_MAX);
  again.add(high(0));
  assert.is(again.dropped, extra + 1);
  // The file stays bounded too.
  assert.ok(statSync(join(dir, 'alerts.json')).size < (ALERT_QUEUE_MAX + 1) * 200);
});

test('written atomically: alerts.json only, no temporary file left, private mode, valid JSON', () => {
  const dir = tempDir();
  const q = new AlertQueue(dir);
  for (let i = 1; i <= 20; i++) {
    q.add(high(i));
    if (i % 3 === 0) q.ack(i - 1);
  }
  assert.equal(readdirSync(dir), ['alerts.json']);
  const file = join(dir, 'alerts.json');
  if (process.platform !== 'win32') assert.is(statSync(file).mode & 0o777, 0o600);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.is(saved.nextSeq, 21);
  assert.equal(saved.pending.map((a: { seq: number }) => a.seq), q.pending().map((a) => a.seq));
});

test('no state folder: works in memory, writes nothing', () => {
  const q = new AlertQueue();
  assert.is(q.add(high(1)).seq, 1);
  assert.is(q.add(high(2)).seq, 2);
  assert.ok(q.ack(1));
  assert.equal(q.pending().map((a) => a.seq), [2]);
});

test('a foreign or unreadable alerts.json starts an empty queue instead of crashing', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'alerts.json'), '{"nextSeq":"x"}');
  assert.equal(new AlertQueue(dir).pending(), []);
  writeFileSync(join(dir, 'alerts.json'), '{not json');
  const q = new AlertQueue(dir);
  assert.equal(q.pending(), []);
  q.add(high(1));
  assert.ok(existsSync(join(dir, 'alerts.json')));
  assert.is(new AlertQueue(dir).pending().length, 1);
});

test.run();

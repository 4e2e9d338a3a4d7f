import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Enrollment, MAX_PENDING, MAX_PENDING_PER_ADDRESS, PENDING_TTL_MS, type Enrolled } from '../../common/manager/enrollment.ts';
import { HwError } from '../../common/errors.ts';
import { cleanTempDirs, tempDir, waitFor } from '../harness.helper.ts';

const test = suite('manager/enrollment');
test.after(() => cleanTempDirs());

/** A key's fingerprint: one for each n (a pending entry is one per key). */
const fp = (n: number) => createHash('sha256').update(String(n)).digest('hex').toUpperCase().match(/../g)!.join(':');
const agent = (id: string, name: string, key: number, address = '127.0.0.1') => ({ id, name, fingerprint: fp(key), address });
/** A spread of addresses, MAX_PENDING_PER_ADDRESS agents on each. */
const spread = (i: number) => `10.0.${Math.floor(i / MAX_PENDING_PER_ADDRESS / 250)}.${Math.floor(i / MAX_PENDING_PER_ADDRESS) % 250}`;

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.instance(err, HwError);
    return (err as HwError).code;
  }
  return 'none';
}

test('a new key is pending, or accepted with auto-accept; the same key is let in again', () => {
  const e = new Enrollment(tempDir());
  assert.is(e.admit(agent('a', 'web1', 1), false), 'pending');
  assert.is(e.admit(agent('a', 'web1', 1), false), 'pending');
  assert.is(e.admit(agent('a', 'web1', 1), true), 'accepted', 'the token or --auto-accept accepts a pending one');
  assert.is(e.admit(agent('b', 'web2', 2), true), 'accepted');
});

test('another key for an enrolled id, or for an accepted name, is refused; a revoked key too', () => {
  const e = new Enrollment(tempDir());
  e.admit(agent('a', 'db1', 1), true);
  assert.is(refusal(() => e.admit(agent('a', 'db1', 9), true)), 'IDENTITY_MISMATCH');
  assert.is(refusal(() => e.admit(agent('x', 'db1', 9), true)), 'NAME_TAKEN');
  assert.is(e.admit(agent('x', 'db2', 9), true), 'accepted', 'another name is fine');
  e.revoke('a');
  assert.is(refusal(() => e.admit(agent('a', 'db1', 1), true)), 'REVOKED');
  assert.is(e.admit(agent('y', 'db1', 5), true), 'accepted', 'the name is free again');
});

test('at most MAX_PENDING pending keys', () => {
  const e = new Enrollment(tempDir());
  for (let i = 0; i < MAX_PENDING; i++) e.admit(agent(`p${i}`, `p${i}`, i, spread(i)), false);
  assert.is(refusal(() => e.admit(agent('one-more', 'one-more', 99_999, '10.9.9.9'), false)), 'RATE_LIMITED');
  e.accept('p0');
  assert.is(e.admit(agent('one-more', 'one-more', 99_999, '10.9.9.9'), false), 'pending', 'room again once one is accepted');
});

test('one address (or IPv6 /64) holds at most MAX_PENDING_PER_ADDRESS pending keys; others still get in', () => {
  const e = new Enrollment(tempDir());
  for (let i = 0; i < MAX_PENDING_PER_ADDRESS; i++) e.admit(agent(`a${i}`, `a${i}`, i, '192.0.2.7'), false);
  assert.is(refusal(() => e.admit(agent('a-more', 'a-more', 500, '192.0.2.7'), false)), 'RATE_LIMITED');
  assert.is(refusal(() => e.admit(agent('a-more', 'a-more', 500, '::ffff:192.0.2.7'), false)), 'RATE_LIMITED', 'the same address mapped to IPv6');
  assert.is(e.admit(agent('b', 'b', 600, '192.0.2.8'), false), 'pending', 'the next address is not held back');
  assert.is(e.admit(agent('tok', 'tok', 601, '192.0.2.7'), true), 'accepted', 'the enroll token is not held back');
  for (let i = 0; i < MAX_PENDING_PER_ADDRESS; i++) e.admit(agent(`v6-${i}`, `v6-${i}`, 700 + i, `2001:db8:1:2::${i + 1}`), false);
  assert.is(refusal(() => e.admit(agent('v6-more', 'v6-more', 799, '2001:db8:1:2:ffff:1:2:3'), false)), 'RATE_LIMITED', 'a /64 counts as one address');
  assert.is(e.admit(agent('v6-next', 'v6-next', 800, '2001:db8:1:3::1'), false), 'pending', 'the next /64 is free');
  // Known pending agents come back whatever the count.
  assert.is(e.admit(agent('a0', 'a0', 0, '192.0.2.7'), false), 'pending');
});

test('a key enrolling again under a new id replaces its own pending entry (and is told of)', () => {
  const dropped: [string, string][] = [];
  const e = new Enrollment(tempDir(), { onDropped: (x: Enrolled, why) => dropped.push([x.id, why]), maxPendingPerAddress: 2 });
  e.admit(agent('old', 'web1', 1), false);
  e.admit(agent('other', 'web2', 2), false);
  assert.is(e.admit(agent('new', 'web1', 1), false), 'pending', 'a full address: the key\'s own place is reused');
  assert.equal(dropped, [['old', 'replaced']]);
  assert.is(e.get('old'), undefined);
  assert.equal(e.pending().map((x) => x.id), ['other', 'new']);
});

test('pending keys expire after the TTL, with the reason; accepted ones never', () => {
  const dropped: [string, string][] = [];
  const e = new Enrollment(tempDir(), { onDropped: (x: Enrolled, why) => dropped.push([x.id, why]), maxPendingPerAddress: 2 });
  const t0 = 1_000_000;
  e.admit(agent('p1', 'p1', 1), false, t0);
  e.admit(agent('acc', 'acc', 2), true, t0);
  e.admit(agent('p2', 'p2', 3), false, t0 + 1000);
  assert.equal(e.expire(t0 + PENDING_TTL_MS - 1).map((x) => x.id), [], 'not yet');
  assert.equal(e.expire(t0 + PENDING_TTL_MS).map((x) => x.id), ['p1']);
  assert.equal(dropped, [['p1', 'expired']]);
  assert.is(e.get('acc')?.status, 'accepted');
  // A full address makes room from its expired entries before refusing.
  e.admit(agent('p3', 'p3', 4), false, t0 + PENDING_TTL_MS);
  assert.is(refusal(() => e.admit(agent('p4', 'p4', 5), false, t0 + PENDING_TTL_MS)), 'RATE_LIMITED');
  assert.is(e.admit(agent('p4', 'p4', 5), false, t0 + PENDING_TTL_MS + 1000), 'pending', 'p2 expired to make room');
  assert.equal(dropped.map((d) => d[0]), ['p1', 'p2']);
});

test('a name that is another agent\'s id (or an id that is another\'s name) is refused as NAME_TAKEN', () => {
  const e = new Enrollment(tempDir());
  const A = '0a1b2c3d-0000-4000-8000-00000000000a';
  e.admit(agent(A, 'db1', 1), true);
  assert.is(refusal(() => e.admit(agent('0a1b2c3d-0000-4000-8000-00000000000b', A, 2), false)), 'NAME_TAKEN');
  e.admit(agent('0a1b2c3d-0000-4000-8000-00000000000c', 'pend', 3), false);
  assert.is(refusal(() => e.admit(agent('db1', 'other', 4), true)), 'NAME_TAKEN', 'an accepted agent\'s name as id');
  assert.is(refusal(() => e.admit(agent('pend', 'other', 4), true)), 'NAME_TAKEN', 'a pending agent\'s name as id');
});

test('decisions are on disk at once; what agents bring in within a second; all of it read back', async () => {
  const dir = tempDir();
  const e = new Enrollment(dir);
  e.admit(agent('a', 'web1', 1), false);
  e.accept('a');
  const onDisk = () => JSON.parse(readFileSync(join(dir, 'agents.json'), 'utf8'));
  assert.is(onDisk().agents[0].status, 'accepted', 'accept is written at once');
  e.admit(agent('b', 'web2', 2), true);
  await waitFor(() => onDisk().agents.length === 2, 3000, 'new agent saved soon');
  e.revoke('b');
  const again = new Enrollment(dir);
  assert.is(again.get('a')?.status, 'accepted');
  assert.is(again.get('b'), undefined);
  assert.is(refusal(() => again.admit(agent('b', 'web2', 2), true)), 'REVOKED', 'revocation survives a restart');
});

test('a first enrollment is on disk before the agent is welcomed; a burst of them within a second', async () => {
  const dir = tempDir();
  const e = new Enrollment(dir);
  const onDisk = () => JSON.parse(readFileSync(join(dir, 'agents.json'), 'utf8')) as { agents: { id: string; status: string }[] };
  assert.is(e.admit(agent('a', 'web1', 1), true), 'accepted');
  assert.equal(onDisk().agents.map((x) => [x.id, x.status]), [['a', 'accepted']], 'written by admit itself: a kill -9 now keeps it');
  for (let i = 0; i < 200; i++) e.admit(agent(`n${i}`, `n${i}`, 10 + i), true);
  await waitFor(() => onDisk().agents.length === 201, 3000, 'the burst saved within a second');
  e.close();
});

test.run();

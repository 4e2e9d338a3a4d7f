import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Enrollment, MAX_PENDING } from '../../common/manager/enrollment.ts';
import { HwError } from '../../common/errors.ts';
import { cleanTempDirs, tempDir, waitFor } from '../harness.helper.ts';

const test = suite('manager/enrollment');
test.after(() => cleanTempDirs());

const fp = (n: number) => Array.from({ length: 32 }, (_, i) => ((n + i) % 256).toString(16).padStart(2, '0').toUpperCase()).join(':');
const agent = (id: string, name: string, key: number) => ({ id, name, fingerprint: fp(key), address: '127.0.0.1' });

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
  for (let i = 0; i < MAX_PENDING; i++) e.admit(agent(`p${i}`, `p${i}`, i), false);
  assert.is(refusal(() => e.admit(agent('one-more', 'one-more', 99_999), false)), 'RATE_LIMITED');
  e.accept('p0');
  assert.is(e.admit(agent('one-more', 'one-more', 99_999), false), 'pending', 'room again once one is accepted');
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

// The manager's UDP intake answers only a datagram whose MAC verified with that agent's current
// session key, and seals the ack with that key (plain JSON only for an agent older than
// signed-acks): a replayed or forged alert earns nobody an ack it could use.
import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AlertIntake } from '../../common/manager/alert-intake.ts';
import { ManagerState } from '../../common/manager/state.ts';
import { LogThrottle } from '../../common/util/throttle.ts';
import { Allowlist } from '../../common/security/allowlist.ts';
import { seal, split, verify } from '../../common/security/udp-mac.ts';

const test = suite('manager/alert-intake');

const A = '11111111-aaaa-4000-8000-000000000001';
const B = '22222222-bbbb-4000-8000-000000000002';

function rig() {
  const state = new ManagerState({ now: () => 1000 });
  for (const id of [A, B]) {
    state.agentUp({
      id, name: id.slice(0, 4), hostname: 'h', address: '127.0.0.1', platform: 'linux', arch: 'x64', version: '1', interval: 5,
      restartAllowed: false, filesEnabled: false, trust: 'accepted', fingerprint: 'AA',
    });
  }
  const replies: { buf: Buffer; port: number; address: string }[] = [];
  const intake = new AlertIntake({
    allow: Allowlist.parse(undefined), state, throttle: new LogThrottle(), now: () => 1000, refuse: () => {},
    reply: (buf, port, address) => replies.push({ buf, port, address }),
  });
  return { intake, replies };
}

const body = (agentId: string, seq: number) => Buffer.from(JSON.stringify({ type: 'alert', agentId, epoch: 'e-1', seq, alert: 'CPU_HIGH', value: 90, threshold: 80, at: 1 }));

test('a verified alert is answered with an ack sealed with the same session key, epoch and seq echoed', () => {
  const { intake, replies } = rig();
  const key = randomBytes(32);
  intake.setKey(A, key, true);
  intake.onDatagram(seal(key, body(A, 1)), '127.0.0.1', 4000);
  assert.is(replies.length, 1);
  const parts = split(replies[0]!.buf)!;
  assert.ok(verify(key, parts.body, parts.mac), 'sealed with the session key');
  assert.equal(JSON.parse(parts.body.toString()), { type: 'ack', agentId: A, epoch: 'e-1', seq: 1 });
  assert.equal([replies[0]!.port, replies[0]!.address], [4000, '127.0.0.1']);
  // A resend (the first ack lost) is answered again, sealed the same way.
  intake.onDatagram(seal(key, body(A, 1)), '127.0.0.1', 4000);
  assert.is(replies.length, 2);
  assert.ok(verify(key, split(replies[1]!.buf)!.body, split(replies[1]!.buf)!.mac));
});

test('nothing is answered for a made-up key, another agent\'s key, a previous session\'s key or no session', () => {
  const { intake, replies } = rig();
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  intake.setKey(A, keyA, true);
  intake.setKey(B, keyB, true);
  intake.onDatagram(seal(randomBytes(32), body(A, 1)), '127.0.0.9', 4000);
  intake.onDatagram(seal(keyB, body(A, 2)), '127.0.0.9', 4000);
  intake.setKey(A, randomBytes(32), true); // A reconnected: a new session, a new key
  intake.onDatagram(seal(keyA, body(A, 3)), '127.0.0.9', 4000);
  intake.dropKey(B);
  intake.onDatagram(seal(keyB, body(B, 1)), '127.0.0.9', 4000);
  assert.equal(replies, []);
  assert.equal(intake.dropped(), { 'bad-mac': 3, 'unknown-agent': 1 });
});

test('an agent that did not name signed-acks gets the plain ack it parses', () => {
  const { intake, replies } = rig();
  const key = randomBytes(32);
  intake.setKey(A, key, false);
  intake.onDatagram(seal(key, body(A, 1)), '127.0.0.1', 4000);
  assert.equal(JSON.parse(replies[0]!.buf.toString()), { type: 'ack', agentId: A, epoch: 'e-1', seq: 1 });
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LoginLimit } from '../../common/web/login-limit.ts';
import { LoginLinks } from '../../common/web/login-links.ts';
import { Sessions } from '../../common/web/sessions.ts';

test('a session expires when idle and at its maximum age, with an injected clock', () => {
  let t = 0;
  const s = new Sessions({ now: () => t, idleMs: 1000, maxMs: 5000 });
  const a = s.open('alice', 'admin', 'x');
  t = 900;
  assert.ok(s.get(a.id), 'used within the idle time');
  t = 1800;
  assert.ok(s.get(a.id), 'the idle clock restarted at 900');
  t = 2900;
  assert.is(s.get(a.id), undefined, 'idle for 1100 ms');
  const b = s.open('alice', 'admin', 'x');
  for (t = 3000; t <= 7900; t += 700) assert.ok(s.get(b.id), `kept busy at ${t}`);
  t = 7901;
  assert.is(s.get(b.id), undefined, 'cut at the maximum age, busy or not');
});

test('CSRF tokens are compared exactly; closeUser ends every session of the user', () => {
  const s = new Sessions();
  const a = s.open('alice', 'admin', 'x');
  const b = s.open('alice', 'viewer', 'x');
  const c = s.open('bob', 'viewer', 'y');
  assert.ok(s.csrfMatches(a, a.csrf));
  assert.not.ok(s.csrfMatches(a, b.csrf));
  assert.not.ok(s.csrfMatches(a, undefined));
  assert.not.ok(s.csrfMatches(a, ''));
  s.closeUser('alice');
  assert.is(s.get(a.id), undefined);
  assert.is(s.get(b.id), undefined);
  assert.ok(s.get(c.id));
});

test('a sign-in link works once and not after ten minutes', () => {
  let t = 0;
  const l = new LoginLinks({ now: () => t });
  const one = l.create('alice');
  assert.equal(l.consume(one.token)?.user, 'alice');
  assert.is(l.consume(one.token), undefined, 'used up');
  const two = l.create();
  t = 10 * 60_000;
  assert.is(l.consume(two.token), undefined, 'expired');
  assert.is(l.consume('made-up'), undefined);
});

test('failed sign-ins are limited per user and per address, in a sliding window', () => {
  let t = 0;
  const l = new LoginLimit({ now: () => t, windowMs: 60_000, perAddress: 8, perUser: 3 });
  for (let i = 0; i < 3; i++) {
    assert.is(l.retryAfter('10.0.0.1', 'alice'), 0);
    l.failed('10.0.0.1', 'alice');
  }
  assert.ok(l.retryAfter('10.0.0.1', 'alice') > 0, 'alice locked');
  assert.ok(l.retryAfter('10.0.0.2', 'alice') > 0, 'from any address');
  assert.is(l.retryAfter('10.0.0.1', 'bob'), 0, 'bob is not');
  for (let i = 0; i < 5; i++) l.failed('10.0.0.1', `u${i}`);
  assert.ok(l.retryAfter('10.0.0.1', 'carol') > 0, 'the address is locked after 8');
  assert.is(l.retryAfter('10.0.0.3', 'carol'), 0);
  t = 60_001;
  assert.is(l.retryAfter('10.0.0.1', 'alice'), 0, 'the window slid past');
});

test.run();

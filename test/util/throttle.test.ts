// A refused address is reported once per period with the count held back since; the clock is
// injected so that no test sleeps.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LOG_THROTTLE_PERIOD_MS, LogThrottle } from '../../common/util/throttle.ts';

const test = suite('util/throttle');

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

test('first refusal is reported, the rest of the period is counted, then reported with the count', () => {
  const c = clock();
  const log = new LogThrottle({ now: c.now, periodMs: 1000 });
  assert.is(log.note('udp:10.0.0.9'), 1);
  for (let i = 0; i < 4; i++) {
    c.advance(100);
    assert.is(log.note('udp:10.0.0.9'), 0);
  }
  c.advance(600); // exactly one period after the report
  assert.is(log.note('udp:10.0.0.9'), 5, 'this one plus the 4 held back');
  c.advance(999);
  assert.is(log.note('udp:10.0.0.9'), 0);
  c.advance(1);
  assert.is(log.note('udp:10.0.0.9'), 2);
});

test('a quiet address after the period is reported as a single refusal again', () => {
  const c = clock();
  const log = new LogThrottle({ now: c.now, periodMs: 1000 });
  assert.is(log.note('tcp:1.2.3.4'), 1);
  c.advance(5000);
  assert.is(log.note('tcp:1.2.3.4'), 1);
});

test('keys are independent', () => {
  const c = clock();
  const log = new LogThrottle({ now: c.now, periodMs: 1000 });
  assert.is(log.note('tcp:1.2.3.4'), 1);
  assert.is(log.note('udp:1.2.3.4'), 1);
  assert.is(log.note('tcp:1.2.3.5'), 1);
  assert.is(log.note('tcp:1.2.3.4'), 0);
  c.advance(1000);
  assert.is(log.note('tcp:1.2.3.4'), 2);
  assert.is(log.note('udp:1.2.3.4'), 1);
});

test('default period is LOG_THROTTLE_PERIOD_MS', () => {
  const c = clock();
  const log = new LogThrottle({ now: c.now });
  assert.is(log.note('k'), 1);
  c.advance(LOG_THROTTLE_PERIOD_MS - 1);
  assert.is(log.note('k'), 0);
  c.advance(1);
  assert.is(log.note('k'), 2);
});

test('a flood from many addresses after the table was pruned still reports new ones', () => {
  const c = clock();
  const log = new LogThrottle({ now: c.now, periodMs: 1000 });
  for (let i = 0; i < 10_001; i++) assert.is(log.note(`udp:old-${i}`), 1);
  c.advance(1000);
  for (let i = 0; i < 100; i++) assert.is(log.note(`udp:new-${i}`), 1);
  assert.is(log.note('udp:old-5'), 1, 'an old key past its period is reported again');
});

// A flood of spoofed source addresses (cheap with UDP, unlimited with IPv6) once made the table grow
// without bound and every note() prune all of it. The table is capped, the oldest key evicted; the
// time per note under such a flood is measured by `npm run bench` (scripts/bench/log-throttle.ts),
// not asserted here: a speed limit fails on a loaded machine and proves nothing on a quiet one.
test('20,000 distinct addresses within one period: each reported once, the table capped by evicting the oldest', () => {
  const c = clock();
  const log = new LogThrottle({ now: c.now, periodMs: 60_000 });
  const key = (i: number) => `udp:2001:db8::${i.toString(16)}`;
  for (let i = 0; i < 20_000; i++) {
    assert.is(log.note(key(i)), 1);
    c.advance(1);
  }
  // Still within the period: the newest 9,000 at least are remembered and held back, the oldest forgotten.
  assert.is(log.note(key(19_999)), 0, 'the newest key is still held back');
  assert.is(log.note(key(11_000)), 0, 'a key 9,000 back is still held back');
  assert.is(log.note(key(0)), 1, 'the oldest key was evicted: reported again as new');
});

test.run();

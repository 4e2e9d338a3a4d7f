// A refused address is reported once per period with the count held back since; the clock is
// injected so that no test sleeps.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LOG_THROTTLE_PERIOD_MS, LogThrottle } from '../../common/util/throttle.ts';

const test = suite('log/throttle');

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

// Regression test (a bug, now fixed, in common/log/throttle.ts note/prune): past 10,000 keys, every note() of a new key runs
// prune() over the whole map, which removes nothing while the keys are younger than the period. A
// flood of refused datagrams from spoofed source addresses (cheap with UDP, unlimited with IPv6)
// then costs O(n) per packet (quadratic overall) and the map grows without bound. Measured here:
// 20,000 new keys take over a second instead of a few milliseconds. Suggested fix: cap the map
// (evict the oldest entries: a Map iterates in insertion order) and prune at most once a period.
test('20,000 distinct refused addresses within one period cost linear time', () => {
  const c = clock();
  const log = new LogThrottle({ now: c.now, periodMs: 60_000 });
  const budgetMs = 400; // a linear version does this in well under 50 ms
  const start = performance.now();
  let done = 0;
  for (; done < 20_000; done++) {
    if (done % 1000 === 0 && performance.now() - start > budgetMs) break;
    log.note(`udp:2001:db8::${done.toString(16)}`);
    c.advance(1);
  }
  const took = performance.now() - start;
  assert.ok(done === 20_000 && took <= budgetMs, `only ${done} notes in ${took.toFixed(0)} ms`);
});

test.run();

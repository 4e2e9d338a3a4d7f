// Reconnect delay: the ceiling doubles from base to cap, the delay is a uniform draw below it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, Backoff } from '../../common/util/backoff.ts';

const test = suite('util/backoff');

test('ceiling doubles from base up to cap, then stays there', () => {
  const b = new Backoff({ baseMs: 100, capMs: 1000, random: () => 0.5 });
  const ceilings: number[] = [];
  for (let i = 0; i < 8; i++) {
    ceilings.push(b.ceiling);
    b.next();
  }
  assert.equal(ceilings, [100, 200, 400, 800, 1000, 1000, 1000, 1000]);
});

test('full jitter: the delay is random * ceiling, floored, within [0, ceiling)', () => {
  const draws = [0, 0.5, 0.999999, 0.25];
  let i = 0;
  const b = new Backoff({ baseMs: 100, capMs: 10_000, random: () => draws[i++]! });
  assert.is(b.next(), 0); // 0 * 100
  assert.is(b.next(), 100); // 0.5 * 200
  assert.is(b.next(), 399); // just below 400: never the ceiling itself
  assert.is(b.next(), 200); // 0.25 * 800
});

test('with the real random, every delay is below its ceiling and not all equal', () => {
  const b = new Backoff({ baseMs: 50, capMs: 400 });
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const ceiling = b.ceiling;
    const d = b.next();
    assert.ok(Number.isInteger(d) && d >= 0 && d < ceiling, `delay ${d} with ceiling ${ceiling}`);
    seen.add(d);
  }
  assert.ok(seen.size > 10, 'no jitter: agents would reconnect in lockstep');
});

test('reset goes back to the base ceiling', () => {
  const b = new Backoff({ baseMs: 100, capMs: 1000, random: () => 0.999 });
  for (let i = 0; i < 5; i++) b.next();
  assert.is(b.ceiling, 1000);
  b.reset();
  assert.is(b.ceiling, 100);
  assert.is(b.next(), 99);
  assert.is(b.ceiling, 200);
});

test('the defaults are BACKOFF_BASE_MS and BACKOFF_CAP_MS, and a long outage never overflows the cap', () => {
  const b = new Backoff({ random: () => 0.5 });
  assert.is(b.ceiling, BACKOFF_BASE_MS);
  for (let i = 0; i < 10_000; i++) b.next();
  assert.is(b.ceiling, BACKOFF_CAP_MS);
  const d = b.next();
  assert.ok(Number.isFinite(d) && d === Math.floor(0.5 * BACKOFF_CAP_MS), String(d));
});

test.run();

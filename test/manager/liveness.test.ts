// Liveness on an injected clock: three silent intervals make an agent down; after a start the
// grace period ends for an agent as soon as it has reconnected; a late sweep judges nobody, but
// the next one does even if it is late too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Liveness, type LivenessRecord } from '../../common/manager/liveness.ts';

const agent = (o: Partial<LivenessRecord> = {}): LivenessRecord => ({ id: 'a', trust: 'accepted', down: false, interval: 1, lastSeen: null, ...o });

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

/** Sweeps every 500 ms up to `ms`, returning the clock offset at which `rec` was first called down. */
function downAfter(l: Liveness, c: ReturnType<typeof clock>, rec: LivenessRecord, ms: number): number | null {
  for (let dt = 0; dt <= ms; dt += 500) {
    if (l.sweep([rec]).length) return dt;
    c.advance(500);
  }
  return null;
}

test('an agent silent for three intervals is down within one sweep of that', () => {
  const c = clock();
  const l = new Liveness({ now: c.now, startGraceMs: 30_000 });
  l.start();
  const rec = agent({ interval: 2, lastSeen: c.now() }); // heard at start: back already
  const at = downAfter(l, c, rec, 20_000);
  assert.ok(at !== null && at > 6000 && at <= 6500, `down after ${at} ms for a 2 s interval`);
});

test('agent_down after: 5 makes it five intervals', () => {
  const c = clock();
  const l = new Liveness({ now: c.now, startGraceMs: 30_000 });
  l.silentIntervals = 5;
  l.start();
  const rec = agent({ interval: 2, lastSeen: c.now() });
  const at = downAfter(l, c, rec, 30_000);
  assert.ok(at !== null && at > 10_000 && at <= 10_500, `down after ${at} ms for 5 x 2 s`);
});

test('after a restart, an agent that came back and then died is down after its own silence, not the grace', () => {
  const c = clock();
  const l = new Liveness({ now: c.now, startGraceMs: 30_000 });
  l.start();
  c.advance(1000);
  const rec = agent({ interval: 1, lastSeen: c.now() }); // reconnected a second after the start
  const at = downAfter(l, c, rec, 40_000);
  assert.ok(at !== null && at <= 3500, `down ${at} ms after its last report (the grace is 30 s)`);
});

test('an agent known from before the restart and not back gets the grace period first', () => {
  const c = clock();
  const l = new Liveness({ now: c.now, startGraceMs: 10_000 });
  const rec = agent({ interval: 1, lastSeen: c.now() - 60_000 });
  l.start();
  const at = downAfter(l, c, rec, 30_000);
  assert.ok(at !== null && at > 10_000 && at <= 13_500, `down at ${at} ms: grace then three intervals`);
});

test('never after less than MIN_SILENCE_MS; pending and already-down agents are not judged', () => {
  const c = clock();
  const l = new Liveness({ now: c.now, startGraceMs: 0 });
  l.start();
  const rec = agent({ interval: 0.1 as number, lastSeen: c.now() });
  assert.is(l.limitMs(rec), 3000);
  c.advance(2500);
  assert.equal(l.sweep([rec, agent({ trust: 'pending', lastSeen: 0 }), agent({ down: true, lastSeen: 0 })]), []);
  c.advance(1000);
  assert.equal(l.sweep([rec]).length, 1);
});

test('a late sweep (the process was stalled) judges nobody; the next one does, late or not', () => {
  const c = clock();
  const l = new Liveness({ now: c.now, startGraceMs: 0 });
  l.start();
  const rec = agent({ interval: 1, lastSeen: c.now() });
  c.advance(10_000); // a stall: the agent's reports may be waiting unread
  assert.equal(l.sweep([rec]), [], 'the late sweep waits');
  c.advance(5000); // late again (a loaded machine): judged now
  assert.equal(l.sweep([rec]).length, 1);
});

test.run();

// The manager's side of acknowledged samples: a resent sample taken once, a written one
// acknowledged again at once, acks as merged runs, the window shrinking as the fleet's samples
// wait for the disk, a new numbering forgetting the old, and bounded memory per agent.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SAMPLES_WINDOW, SampleAcks, toRanges } from '../../common/manager/sample-acks.ts';
import type { SamplesAck } from '../../common/wire/messages.ts';

const test = suite('manager/sample-acks');

function acks(pending = () => 0) {
  const sent: [string, SamplesAck][] = [];
  let now = 0;
  const a = new SampleAcks({ post: (id, msg) => sent.push([id, msg]), pending, now: () => now });
  return { a, sent, tick: (ms: number) => { now += ms; } };
}

test('toRanges: sorted, merged, inclusive; merged with runs already made', () => {
  assert.equal(toRanges([5, 1, 2, 3, 9, 7, 8]), [[1, 3], [5, 5], [7, 9]]);
  assert.equal(toRanges([4, 10], [[1, 3], [6, 9]]), [[1, 4], [6, 10]]);
  assert.equal(toRanges([]), []);
});

test('taken once; acknowledged when written; a repeat of a written one acknowledged again at once', () => {
  const { a, sent } = acks();
  a.hello('x', 'e1');
  assert.is(a.receive('x', 1), 'new');
  a.taken('x', 1, true);
  assert.is(a.receive('x', 1), 'waiting', 'a resend while it waits is not taken twice');
  assert.is(a.receive('x', 2), 'new');
  a.taken('x', 2);
  assert.is(a.waiting(), 2);
  assert.equal(sent, []);
  a.written('x', [2, 1]);
  assert.equal(sent, [['x', { type: 'samples-ack', ranges: [[1, 2]], window: SAMPLES_WINDOW }]]);
  assert.is(a.waiting(), 0);
  assert.is(a.receive('x', 2), 'written');
  assert.equal(sent[1], ['x', { type: 'samples-ack', ranges: [[2, 2]], window: SAMPLES_WINDOW }]);
});

test('live samples acknowledged together every 20 s; backfill at the write that has it', () => {
  const { a, sent, tick } = acks();
  a.hello('x', 'e1');
  for (let i = 0; i < 10; i++) {
    a.taken('x', i);
    a.written('x', [i]);
    if (i === 0) assert.is(sent.length, 1, 'the first at once');
    tick(5000);
  }
  // 0 at once; then 1..4 together at 20 s, 5..8 at 40 s; 9 waits
  assert.equal(sent.map(([, m]) => m.ranges), [[[0, 0]], [[1, 4]], [[5, 8]]]);
  a.taken('x', 3, true); // a resent one as backfill: the window waits on it
  a.written('x', [3]);
  assert.equal(sent[sent.length - 1]![1].ranges, [[3, 3], [9, 9]]);
});

test('a new numbering (epoch) forgets the old one; the same one keeps it across reconnections', () => {
  const { a } = acks();
  a.hello('x', 'e1');
  a.written('x', [1]);
  a.hello('x', 'e1');
  assert.is(a.receive('x', 1), 'written');
  a.hello('x', 'e2');
  assert.is(a.receive('x', 1), 'new');
});

test('the window: the fleet budget shared by the agents, smaller as samples wait for the disk, never below its least; asked once a second', () => {
  let pending = 0;
  const { a, tick } = acks(() => pending);
  assert.is(a.window(), SAMPLES_WINDOW);
  for (let i = 0; i < 1000; i++) a.hello(`agent-${i}`, 'e');
  assert.is(a.window(), SAMPLES_WINDOW, 'cached for a second');
  tick(1000);
  assert.is(a.window(), 200, '200,000 shared by 1,000');
  pending = 100_000;
  tick(1000);
  assert.is(a.window(), 100);
  pending = 10_000_000;
  tick(1000);
  assert.is(a.window(), 16);
  for (let i = 1000; i < 10_000; i++) a.hello(`agent-${i}`, 'e');
  pending = 0;
  tick(1000);
  assert.is(a.window(), 20, '10,000 agents back at once: 20 each');
});

test('stopping: every acknowledgement held back is sent', () => {
  const { a, sent } = acks();
  a.written('x', [1]);
  a.written('x', [2, 3]);
  assert.is(sent.length, 1);
  a.flushAll();
  assert.equal(sent.map(([, m]) => m.ranges), [[[1, 1]], [[2, 3]]]);
});

test('memory per agent bounded: written runs kept, the oldest forgotten', () => {
  const { a } = acks();
  for (let i = 0; i < 1000; i++) a.written('x', [i * 2]); // 1000 separate runs
  assert.is(a.receive('x', 1998), 'written');
  assert.is(a.receive('x', 0), 'new', 'the oldest runs forgotten (taken again: the history files a repeat in place)');
});

test.run();

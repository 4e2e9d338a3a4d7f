// Alert de-duplication by agent, epoch and seq: a reset counter (new epoch) is new, a resend is
// not, old seqs past the window count as handled, and the record number is kept for the ack.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AlertDedupe, DURABLE } from '../../common/manager/alert-dedupe.ts';

test('same agent, epoch and seq: seen, with the record number it was written as', () => {
  const d = new AlertDedupe();
  assert.equal(d.check('a', 'e1', 1), { seen: false });
  d.mark('a', 'e1', 1, 17);
  assert.equal(d.check('a', 'e1', 1), { seen: true, mark: 17 });
  assert.equal(d.check('b', 'e1', 1), { seen: false }, 'another agent');
  assert.equal(d.check('a', 'e1', 2), { seen: false }, 'another seq');
});

test('a reset counter (new epoch, seq from 1 again) is never taken for a duplicate', () => {
  const d = new AlertDedupe();
  for (let s = 1; s <= 5; s++) d.mark('a', 'old', s, s);
  assert.equal(d.check('a', 'new', 1), { seen: false });
  d.mark('a', 'new', 1, 9);
  assert.equal(d.check('a', 'old', 1), { seen: true, mark: 1 }, 'the old epoch is still remembered');
  // An agent older than epochs sends none: '' is its own counter.
  assert.equal(d.check('a', '', 1), { seen: false });
});

test('seqs older than the window count as handled and on disk; memory stays bounded', () => {
  const d = new AlertDedupe(10);
  for (let s = 1; s <= 1000; s++) d.mark('a', 'e', s, s);
  assert.equal(d.check('a', 'e', 5), { seen: true, mark: DURABLE });
  assert.equal(d.check('a', 'e', 995), { seen: true, mark: 995 });
  assert.equal(d.check('a', 'e', 1001), { seen: false });
});

test('only a few epochs per agent are kept; forget() drops an agent', () => {
  const d = new AlertDedupe();
  for (let e = 0; e < 10; e++) d.mark('a', `e${e}`, 1, e + 1);
  assert.equal(d.check('a', 'e0', 1), { seen: false }, 'the oldest epoch forgotten');
  assert.equal(d.check('a', 'e9', 1), { seen: true, mark: 10 });
  d.forget('a');
  assert.equal(d.check('a', 'e9', 1), { seen: false });
});

test.run();

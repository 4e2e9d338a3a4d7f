// Which agents a selector names; `id:` and `name:` name exactly one thing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { matches } from '../../common/rules/selector.ts';

const A = { id: '0a1b2c3d-0000-4000-8000-00000000000a', name: 'web-1', address: '10.0.0.1', labels: { role: 'web' } };
// An older agent whose name is A's id.
const B = { id: 'legacy-b', name: A.id, address: '10.0.0.2' };

test('a bare name, id, id prefix, address, glob or label=value', () => {
  for (const sel of ['web-1', A.id, A.id.slice(0, 8), '10.0.0.1', 'web-*', 'role=web', 'role=w*']) assert.ok(matches(sel, A), sel);
  for (const sel of ['web-2', A.id.slice(0, 7), '10.0.0.9', 'db-*', 'role=db']) assert.not.ok(matches(sel, A), sel);
});

test('id: and name: match only the id or only the name; a bare reference matches both agents', () => {
  assert.ok(matches(A.id, A) && matches(A.id, B), 'bare: both');
  assert.ok(matches(`id:${A.id}`, A));
  assert.not.ok(matches(`id:${A.id}`, B));
  assert.ok(matches(`name:${A.id}`, B));
  assert.not.ok(matches(`name:${A.id}`, A));
  assert.not.ok(matches(`id:${A.id.slice(0, 8)}`, A), 'id: takes a whole id');
});

test.run();

// Silences on their own: added, matched by selector and rule, listed soonest-ending first, kept
// in silences.json across a restart, expired by themselves on an injected clock, bad input refused.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Silences } from '../../common/manager/silences.ts';
import { cleanTempDirs, codeOf, tempDir } from '../harness.helper.ts';

test('matched by selector and rule; kept across a restart; expire by themselves', () => {
  const dir = tempDir();
  let t = 1_000_000;
  const s = new Silences({ dataDir: dir, now: () => t });
  const web = s.add({ selector: 'web-*', forS: 7200, reason: 'deploy', by: 'test' });
  const db = s.add({ selector: 'role=db', rule: 'disk_full', forS: 60, by: 'test' });
  assert.is(s.matching({ id: '1', name: 'web-3' }, 'memory_high')?.id, web.id);
  assert.is(s.matching({ id: '2', name: 'pg', labels: { role: 'db' } }, 'disk_full')?.id, db.id);
  assert.is(s.matching({ id: '2', name: 'pg', labels: { role: 'db' } }, 'memory_high'), undefined);
  assert.is(s.matching({ id: '3', name: 'app' }, 'disk_full'), undefined);
  assert.equal(s.active().map((x) => x.id), [db.id, web.id]);
  const again = new Silences({ dataDir: dir, now: () => t });
  assert.equal(again.active().map((x) => x.id), [db.id, web.id]);
  t += 61_000;
  assert.equal(again.active().map((x) => x.id), [web.id]);
  assert.is(again.matching({ id: '2', name: 'pg', labels: { role: 'db' } }, 'disk_full'), undefined);
  again.remove(web.id);
  assert.equal(again.active(), []);
  assert.is(codeOf(() => again.remove(web.id)), 'NOT_FOUND');
});

test('bad input refused: selector, rule, duration, reason; a broken file fails closed', () => {
  const dir = tempDir();
  const s = new Silences({ dataDir: dir, now: () => 0 });
  assert.is(codeOf(() => s.add({ selector: '', forS: 60, by: 't' })), 'BAD_ARGS');
  assert.is(codeOf(() => s.add({ selector: 'x', rule: 'Bad Rule', forS: 60, by: 't' })), 'BAD_ARGS');
  assert.is(codeOf(() => s.add({ selector: 'x', forS: 0, by: 't' })), 'BAD_ARGS');
  assert.is(codeOf(() => s.add({ selector: 'x', forS: 91 * 86_400, by: 't' })), 'BAD_ARGS');
  assert.is(codeOf(() => s.add({ selector: 'x', forS: 60, reason: 'r'.repeat(501), by: 't' })), 'BAD_ARGS');
  writeFileSync(join(dir, 'silences.json'), '{"not":"a list"}');
  assert.is(codeOf(() => new Silences({ dataDir: dir, now: () => 0 })), 'STATE_CORRUPT');
});

test.after(() => cleanTempDirs());
test.run();

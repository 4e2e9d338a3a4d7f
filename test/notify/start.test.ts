// The notifier built from the serve flags: without destinations there is none, and an outbox left
// by an earlier run forgets its mark (this run's alerts are queued nowhere and are not "missed").
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManagerState } from '../../common/manager/state.ts';
import { Outbox } from '../../common/notify/outbox.ts';
import { startNotifier } from '../../common/notify/start.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

const test = suite('notify/start');
test.after(() => cleanTempDirs());

const none = { alertmanagers: [], webhooks: [], webhookFormats: [] };

test('no destinations: no notifier; an outbox left by an earlier run forgets its mark, keeps its items; none is made', () => {
  const dataDir = tempDir();
  const o = new Outbox({ dir: dataDir });
  o.queue(5, () => o.put('k', 'wh-1', { id: 'x' }));
  o.close();
  const notes: string[] = [];
  assert.is(startNotifier(new ManagerState(), dataDir, none, (l) => notes.push(l)), undefined);
  const p = new Outbox({ dir: dataDir });
  assert.is(p.mark, undefined, 'forgotten');
  assert.is(p.count(), 1, 'the undelivered item kept');
  p.close();
  assert.equal(notes, []);
  const fresh = tempDir();
  assert.is(startNotifier(new ManagerState(), fresh, none, () => {}), undefined);
  assert.not.ok(existsSync(join(fresh, 'outbox.log')), 'no outbox made');
});

test.run();

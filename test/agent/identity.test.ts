// The agent's id: made once and kept; one that is there but broken fails closed rather than
// becoming a new agent on the manager.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateId } from '../../common/agent/identity.ts';
import { cleanTempDirs, codeOf, tempDir } from '../harness.helper.ts';

const test = suite('agent/identity');
test.after.each(() => cleanTempDirs());

test('made on first start, the same afterwards', () => {
  const dir = tempDir();
  const id = loadOrCreateId(dir);
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.is(readFileSync(join(dir, 'agent-id'), 'utf8'), `${id}\n`);
  assert.is(loadOrCreateId(dir), id);
});

test('a broken agent-id is STATE_CORRUPT and left as it was', () => {
  const dir = tempDir();
  for (const text of ['', 'short', 'has spaces in it', 'x'.repeat(65)]) {
    writeFileSync(join(dir, 'agent-id'), text);
    assert.is(codeOf(() => loadOrCreateId(dir)), 'STATE_CORRUPT', JSON.stringify(text));
    assert.is(readFileSync(join(dir, 'agent-id'), 'utf8'), text);
  }
});

test.run();

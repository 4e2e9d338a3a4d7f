// Labels: --label flags checked, the config's `labels:` section with problems at their line, and an
// agent's effective labels (its own, then the config's by name, glob or its own label).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigText } from '../../common/config/file.ts';
import { effectiveLabels, parseLabelFlags, type LabelAssign } from '../../common/rules/labels.ts';
import { readLabels } from '../../common/rules/labels-config.ts';
import { codeOf } from '../harness.helper.ts';

test('--label name=value, repeatable; bad ones are BAD_FLAG', () => {
  assert.equal(parseLabelFlags(['role=db', 'dc=eu-1', 'note=a=b']), { role: 'db', dc: 'eu-1', note: 'a=b' });
  for (const bad of [['role'], ['=db'], ['role='], ['1x=y'], ['ro le=x'], [`k=${'v'.repeat(256)}`], Array.from({ length: 17 }, (_, i) => `k${i}=v`)]) {
    assert.is(codeOf(() => parseLabelFlags(bad)), 'BAD_FLAG', bad.join(' '));
  }
});

test('labels: section by selector, problems at their line', () => {
  const f = parseConfigText('labels:\n  "web-*": { role: web, tier: 1 }\n  db1: { "bad key": x }\n  "role=db": { backup: nightly }\n', 'h.yaml', [], { labels: readLabels });
  assert.equal(f.problems.map((p) => `${p.line}:${p.col}: ${p.message}`), ['3:10: labels "db1": label name "bad key": letters, digits, _ . - (starting with a letter or _), at most 63']);
  assert.equal(f.sections.labels, [
    { selector: 'web-*', labels: { role: 'web', tier: '1' } }, { selector: 'db1', labels: {} }, { selector: 'role=db', labels: { backup: 'nightly' } },
  ]);
});

test('effective labels: the agent\'s own, then the config\'s that select it, the config winning', () => {
  const assigns: LabelAssign[] = [{ selector: 'web-*', labels: { role: 'web' } }, { selector: 'role=db', labels: { backup: 'nightly' } }, { selector: 'web-2', labels: { role: 'canary' } }];
  assert.equal(effectiveLabels({ role: 'x', dc: 'eu' }, assigns, { id: '1', name: 'web-1' }), { role: 'web', dc: 'eu' });
  assert.equal(effectiveLabels({}, assigns, { id: '1', name: 'web-2' }), { role: 'canary' });
  assert.equal(effectiveLabels({ role: 'db' }, assigns, { id: '1', name: 'pg' }), { role: 'db', backup: 'nightly' });
  assert.equal(effectiveLabels({ role: 'db' }, undefined, { id: '1', name: 'pg' }), { role: 'db' });
});

test.run();

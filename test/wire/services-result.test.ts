// The agent's services answer as the manager checks it: every field typed and bounded; anything
// else is BAD_MESSAGE, so the CLI and the dashboard never see it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkServicesResult } from '../../common/wire/services-result.ts';
import { codeOf } from '../harness.helper.ts';

const test = suite('wire/services-result');
const row = { name: 'nginx.service', description: 'web', active: 'failed', sub: 'failed', running: false, failed: true };
const good = { source: 'systemctl', services: [row], total: 17, failedCount: 1 };

test('a good answer passes as it is; the newer fields are kept when sent', () => {
  assert.equal(checkServicesResult(good), good);
  const detailed = { ...good, services: [{ ...row, result: 'exit-code', exitStatus: 1, since: 'Sun 2026-12-06 08:40:12 UTC' }], omitted: 3 };
  assert.equal(checkServicesResult(detailed), detailed);
  // Fields it does not know are dropped, not passed on.
  assert.equal(checkServicesResult({ ...good, extra: 'x', services: [{ ...row, html: '<b>' }] }), good);
});

test('anything else is BAD_MESSAGE', () => {
  const bad: unknown[] = [
    null, [], 'x', { ...good, services: 'nginx' }, { ...good, total: -1 }, { ...good, failedCount: 1.5 }, { ...good, source: 5 },
    { ...good, services: [{ ...row, running: 'yes' }] }, { ...good, services: [{ ...row, name: 'x'.repeat(257) }] },
    { ...good, services: [{ ...row, exitStatus: '1' }] }, { ...good, services: Array.from({ length: 5001 }, () => row) }, { ...good, omitted: 'many' },
  ];
  for (const b of bad) assert.is(codeOf(() => checkServicesResult(b)), 'BAD_MESSAGE', JSON.stringify(b)?.slice(0, 80));
});

test.run();

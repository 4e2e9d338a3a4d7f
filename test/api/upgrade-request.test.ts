// The upgrade request's validator (API and CLI alike): one selection, an absolute --to, a batch
// as a count or a percentage, --max-failures from 1.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { upgradeRequest } from '../../common/api/validate.ts';
import { codeOf } from '../harness.helper.ts';

const test = suite('api/upgrade-request');

test('defaults: 10% batches, one failure stops', () => {
  assert.equal(upgradeRequest({ all: true, to: '/opt/agent' }), { all: true, to: '/opt/agent', batch: { percent: 10 }, maxFailures: 1 });
  assert.equal(upgradeRequest({ selector: 'web-*', to: '/a', batch: '5', maxFailures: 2 }).batch, { count: 5 });
  assert.equal(upgradeRequest({ label: 'role=db', to: '/a', batch: '25%' }).batch, { percent: 25 });
});

test('refused: no selection or two, a relative or missing --to, odd batches and failures', () => {
  for (const b of [
    { to: '/a' }, { all: true, selector: 'x', to: '/a' }, { all: true }, { all: true, to: 'agent' }, { all: true, to: '/a', batch: '0' },
    { all: true, to: '/a', batch: '101%' }, { all: true, to: '/a', batch: 'lots' }, { all: true, to: '/a', maxFailures: 0 }, { all: true, to: '/a', maxFailures: 1.5 },
  ]) assert.is(codeOf(() => upgradeRequest(b)), 'BAD_ARGS', JSON.stringify(b));
});

test.run();

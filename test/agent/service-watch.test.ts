// The services read for the rules: at most once every `everyMs` (a clock passed in), never two
// reads at once, each result judged once; a host that cannot list them is said once, not every read.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ServiceWatch } from '../../common/agent/service-watch.ts';
import type { RuleInputs } from '../../common/agent/rule-eval.ts';
import { HwError } from '../../common/errors.ts';
import { waitFor } from '../harness.helper.ts';

const test = suite('agent/service-watch');

test('reads at most once every everyMs and never twice at once; each result fed once', async () => {
  let t = 0;
  let reads = 0;
  let release: (() => void) | undefined;
  const fed: RuleInputs[] = [];
  const w = new ServiceWatch({
    read: () => { reads++; return new Promise((r) => { release = () => r({ rows: [{ name: 'a.service', description: '', active: 'failed', sub: 'failed', running: false, failed: true }] }); }); },
    feed: (i) => fed.push(i), everyMs: 10_000, log: () => {}, now: () => t,
  });
  w.tick();
  t = 20_000;
  w.tick(); // due, but the first read has not answered
  assert.is(reads, 1);
  release!();
  await waitFor(() => fed.length === 1, 2000, 'fed');
  assert.equal(fed[0]!.services, [{ name: 'a.service', running: false }]);
  t = 25_000;
  w.tick(); // 25 s after the first start: due
  assert.is(reads, 2);
  release!();
  await waitFor(() => fed.length === 2, 2000, 'fed');
  t = 34_999;
  w.tick();
  assert.is(reads, 2, 'not before 10 s');
  t = 35_000;
  w.tick();
  assert.is(reads, 3);
});

test('a host that cannot list its services: said once with its code, nothing fed', async () => {
  let t = 0;
  const logs: string[] = [];
  const fed: RuleInputs[] = [];
  const w = new ServiceWatch({
    read: async () => { throw new HwError('SERVICES_UNAVAILABLE', 'systemd is not running on this host'); },
    feed: (i) => fed.push(i), everyMs: 10_000, log: (l) => logs.push(l), now: () => t,
  });
  for (let i = 0; i < 5; i++) {
    t += 10_000;
    w.tick();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(logs, ['cannot read the services for the service rules (not judged until they can be read): SERVICES_UNAVAILABLE: systemd is not running on this host']);
  assert.equal(fed, []);
});

test.run();

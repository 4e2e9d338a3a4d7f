// The process counts for the rules: only process rules are counted, each under its rule's name; a
// rule the host cannot judge (a command line on Windows) is left out of the round and said once.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { processWatch } from '../../common/agent/process-watch.ts';
import type { RuleInputs } from '../../common/agent/rule-eval.ts';
import { processRule, type Rule } from '../../common/rules/rule.ts';
import type { ProcessQuery } from '../../common/collect/process-match.ts';
import { waitFor } from '../harness.helper.ts';

const test = suite('agent/process-watch');

test('counts the process rules\' globs; a count the host cannot make is said once and not judged', async () => {
  let t = 0;
  const asked: ProcessQuery[][] = [];
  const fed: RuleInputs[] = [];
  const logs: string[] = [];
  const rules: Rule[] = [
    { name: 'mem', metric: 'memory', op: 'above', threshold: 90, clear: 85, for: 0, clearFor: 0 },
    processRule('nginx_up', { match: ['nginx*'] }, 1, 0), processRule('app_up', { matchCmdline: ['*app.jar*'] }, 1, 0),
  ];
  const w = processWatch({
    counter: { count: async (q) => { asked.push(q); return q.map((x) => (x.names ? 2 : null)); }, cmdlineUnreadable: 'command lines are not readable here' },
    rules: () => rules, feed: (i) => fed.push(i), everyMs: 5_000, log: (l) => logs.push(l), now: () => t,
  });
  w.tick();
  await waitFor(() => fed.length === 1, 2000, 'fed');
  assert.equal(asked[0], [{ names: ['nginx*'] }, { cmdlines: ['*app.jar*'] }]);
  assert.equal(fed[0]!.processMatches, { nginx_up: 2 });
  t = 4_999;
  w.tick();
  assert.is(asked.length, 1, 'not before 5 s');
  t = 5_000;
  w.tick();
  await waitFor(() => fed.length === 2, 2000, 'fed again');
  assert.equal(logs, ['process rule app_up: command lines are not readable here'], 'said once');
});

test.run();

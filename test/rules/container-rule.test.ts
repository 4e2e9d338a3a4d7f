// `metric: container` rules: read from the config (only as globs, what they refuse, with codes),
// and judged per container by the agent's evaluator: a stopped or unhealthy container fires after
// `for`, a restart fires at once (an event), each exactly once, with one resolution; `repeat`;
// a container removed resolves (gone); restarts told from the restart count or the start time.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigText } from '../../common/config/file.ts';
import { finishRules, RULE_READERS, type RulesConfig } from '../../common/rules/config.ts';
import { alertType, containerRule } from '../../common/rules/rule.ts';
import { RuleEvaluator, type ContainerInput } from '../../common/agent/rule-eval.ts';
import { ContainerRestarts } from '../../common/agent/container-restarts.ts';
import type { ContainerRow } from '../../common/collect/containers/types.ts';

const test = suite('rules/container-rule');
const parse = (text: string) => parseConfigText(text, 'h.yaml', [], RULE_READERS, finishRules);

test('config: the issue\'s example; only is optional; problems with their codes', () => {
  const f = parse('rules:\n  containers_down: { metric: container, only: ["web-*"], for: 30s }\n  any_down: { metric: container, repeat: 1h }\n');
  assert.equal(f.problems, []);
  const [down, any] = (f.sections.rules as RulesConfig).rules;
  assert.equal(down, containerRule('containers_down', ['web-*'], 30));
  assert.equal(any, { ...containerRule('any_down', undefined, 0), repeat: 3600 });
  const cases: [string, RegExp, string | undefined][] = [
    ['rules:\n  c: { metric: container, only: "web-[" }\n', /c: only: bad glob "web-\[": a \[ without its \]/, 'BAD_GLOB'],
    ['rules:\n  c: { metric: container, below: 1 }\n', /c: below is not for container rules/, 'UNKNOWN_KEY'],
    ['rules:\n  c: { metric: container, match: web }\n', /c: match is not for container rules .*they take only, for, clear_for, repeat/, 'UNKNOWN_KEY'],
    ['rules:\n  c: { metric: container, only: [] }\n', /c: only: the containers to watch/, undefined],
    ['rules:\n  c: { metric: container }\nagents:\n  "x": { c: { clear: 1 } }\n', /override of c: a container rule has no clear/, 'UNKNOWN_KEY'],
  ];
  for (const [text, want, code] of cases) {
    const p = parse(text);
    assert.is(p.problems.length, 1, `${text}: ${JSON.stringify(p.problems)}`);
    assert.match(p.problems[0]!.message, want);
    assert.is(p.problems[0]!.code, code, text);
  }
});

const c = (name: string, state = 'running', health: string | null = null, restarted = false): ContainerInput => ({ name, state, health, restarted });

test('evaluator: stopped and unhealthy fire after `for`, a restart at once; one alert each, one resolution', () => {
  const e = new RuleEvaluator({ intervalMs: () => 1_000, rules: [containerRule('down', ['web-*'], 2)] });
  let at = 0;
  const round = (...cs: ContainerInput[]) => e.push({ at: (at += 1_000), containers: cs }).map((d) => `${alertType(d.rule, d.state)} ${d.labels.container} ${d.value}`);
  assert.equal(round(c('web-1'), c('web-2', 'running', 'starting'), c('web-3'), c('db')), []);
  assert.equal(round(c('web-1', 'exited'), c('web-2', 'running', 'unhealthy'), c('web-3', 'running', null, true), c('db', 'exited')), ['DOWN web-3 0'], 'a restart fires at once; db is not kept by only');
  assert.equal(round(c('web-1', 'exited'), c('web-2', 'running', 'unhealthy'), c('web-3'), c('db', 'exited')), ['DOWN web-1 0', 'DOWN web-2 0']);
  assert.equal(round(c('web-1', 'exited'), c('web-2', 'running', 'unhealthy'), c('web-3'), c('db', 'exited')), ['DOWN_RESOLVED web-3 1'], 'running for clear_for after its restart');
  assert.equal(round(c('web-1', 'restarting'), c('web-2', 'running', 'healthy'), c('web-3')), []);
  assert.equal(round(c('web-1', 'running', null, true), c('web-2', 'running', 'healthy'), c('web-3')), ['DOWN_RESOLVED web-2 1'], 'a restart while firing is not a second alert');
  assert.equal(round(c('web-1'), c('web-2'), c('web-3')), []);
  assert.equal(round(c('web-1'), c('web-2'), c('web-3')), ['DOWN_RESOLVED web-1 1']);
  assert.equal(round(c('web-1'), c('web-2'), c('web-3')), []);
});

test('evaluator: a container removed while firing resolves (gone); repeat re-sends a still-firing one', () => {
  const e = new RuleEvaluator({ intervalMs: () => 1_000, rules: [{ ...containerRule('down', undefined, 0), repeat: 3 }] });
  let at = 0;
  const round = (...cs: ContainerInput[]) => e.push({ at: (at += 1_000), containers: cs }).map((d) => `${d.state} ${d.labels.container}${d.again ? ` ${d.again}` : ''}${d.gone ? ' gone' : ''}`);
  assert.equal(round(c('a', 'exited'), c('b', 'exited')), ['firing a', 'firing b']);
  assert.equal(round(c('b', 'exited')), ['resolved a gone']);
  assert.equal(round(c('b', 'exited')), []);
  assert.equal(round(c('b', 'exited')), ['firing b repeat']);
  assert.equal(e.push({ at: 9_000 }), [], 'a round without a container list judges nothing, resolves nothing');
  assert.equal(round(), ['resolved b gone'], 'an empty list: every container is gone');
});

const row = (name: string, restartCount: number | null, startedAt: string | null): ContainerRow => ({
  id: 'x', name, image: 'i', state: 'running', status: 'Up', health: null, restartCount, startedAt, cpuPercent: null, memUsedBytes: null,
  memLimitBytes: null, netRxBytes: null, netTxBytes: null, blockReadBytes: null, blockWriteBytes: null,
});

test('restarts: told by a higher restart count or a new start time; a new container has not restarted', () => {
  const r = new ContainerRestarts();
  const restarted = (rows: ContainerRow[]) => r.inputs(rows).filter((x) => x.restarted).map((x) => x.name);
  assert.equal(restarted([row('a', 0, 't1'), row('b', 2, 't1')]), []);
  assert.equal(restarted([row('a', 0, 't1'), row('b', 3, 't2'), row('c', 5, 't9')]), ['b'], 'by policy: the count goes up');
  assert.equal(restarted([row('a', 0, 't2'), row('b', 3, 't2'), row('c', 5, 't9')]), ['a'], 'docker restart: the count stays, the start time changes');
  assert.equal(restarted([row('a', 0, null), row('b', 3, 't2')]), [], 'not inspected this time: no news');
  assert.equal(restarted([row('a', 0, 't2'), row('b', 3, 't2')]), [], 'the last start time known is kept');
  assert.equal(restarted([row('c', 5, 't10')]), [], 'c was forgotten when it left the list');
});

test.run();

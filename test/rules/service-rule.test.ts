// `metric: service` rules: read from the config (match as a glob or a list, what they refuse),
// checked on the wire as the manager sends them, and judged per service by the agent's evaluator.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigText } from '../../common/config/file.ts';
import { finishRules, RULE_READERS, type RulesConfig } from '../../common/rules/config.ts';
import { rulesFor } from '../../common/rules/resolve.ts';
import { alertType, serviceRule } from '../../common/rules/rule.ts';
import { RuleEvaluator } from '../../common/agent/rule-eval.ts';
import { parseManagerMessage } from '../../common/wire/messages.ts';
import { codeOf } from '../harness.helper.ts';

const test = suite('rules/service-rule');
const parse = (text: string) => parseConfigText(text, 'h.yaml', [], RULE_READERS, finishRules);

test('config: match as one glob or a list; for, clear_for and repeat as for any rule', () => {
  const f = parse('rules:\n  web_service: { metric: service, match: "nginx.service" }\n  db: { metric: service, match: ["postgresql@*", MSSQLSERVER], for: 30s, repeat: 1h }\n');
  assert.equal(f.problems, []);
  const cfg = f.sections.rules as RulesConfig;
  assert.equal(cfg.rules[0], serviceRule('web_service', ['nginx.service'], 0));
  assert.equal(cfg.rules[1], { ...serviceRule('db', ['postgresql@*', 'MSSQLSERVER'], 30), repeat: 3600 });
});

test('config: a service rule without match, with a threshold, or match on another metric is refused at its line', () => {
  const cases: [string, RegExp][] = [
    ['rules:\n  s: { metric: service }\n', /s: match: the services to watch/],
    ['rules:\n  s: { metric: service, match: [] }\n', /s: match: the services to watch/],
    ['rules:\n  s: { metric: service, match: x, above: 1 }\n', /s: above is not for service rules/],
    ['rules:\n  s: { metric: service, match: x, per: mount }\n', /s: per is not for service rules/],
    ['rules:\n  m: { metric: memory, above: 80, match: x }\n', /m: match is for service and process rules/],
    ['rules:\n  s: { metric: service, match: x }\nagents:\n  "web-*": { s: { below: 2 } }\n', /override of s: a service rule has no below/],
  ];
  for (const [text, want] of cases) {
    const f = parse(text);
    assert.is(f.problems.length, 1, text);
    assert.match(f.problems[0]!.message, want);
    assert.ok(f.problems[0]!.line >= 2, 'at its line');
  }
  const off = parse('rules:\n  s: { metric: service, match: x }\nagents:\n  "lab-*": { s: off }\n  "web-*": { s: { for: 1m } }\n');
  assert.equal(off.problems, []);
  const cfg = off.sections.rules as RulesConfig;
  assert.equal(rulesFor(cfg, { id: 'a', name: 'lab-1' }).rules, []);
  assert.is(rulesFor(cfg, { id: 'b', name: 'web-1' }).rules[0]!.for, 60);
});

test('wire: the rules message carries match; a bad one is BAD_MESSAGE', () => {
  const rule = serviceRule('web', ['nginx.service'], 5);
  const m = parseManagerMessage(JSON.stringify({ type: 'rules', version: 'v1', rules: [rule] }));
  assert.equal(m, { type: 'rules', version: 'v1', rules: [rule] });
  assert.is(codeOf(() => parseManagerMessage(JSON.stringify({ type: 'rules', version: 'v1', rules: [{ ...rule, match: 'nginx' }] }))), 'BAD_MESSAGE');
  assert.is(codeOf(() => parseManagerMessage(JSON.stringify({ type: 'rules', version: 'v1', rules: [{ ...rule, metric: 'load' }] }))), 'BAD_MESSAGE');
});

test('evaluator: one series per matched service; fires while not running, resolves when it runs; a named service absent counts as not running', () => {
  const e = new RuleEvaluator({ intervalMs: () => 10_000, rules: [serviceRule('web', ['nginx.service', 'php*-fpm.service', 'gone.service'], 20)] });
  const round = (at: number, nginx: boolean) => e.push({
    at, services: [{ name: 'nginx.service', running: nginx }, { name: 'php8.2-fpm.service', running: true }, { name: 'ssh.service', running: false }],
  }).map((d) => [alertType(d.rule, d.state), d.labels.service, d.value]);
  assert.equal(round(0, false), []);
  assert.equal(round(10_000, false), [['WEB', 'nginx.service', 0], ['WEB', 'gone.service', 0]], 'after for: 20s of samples at 10 s');
  assert.equal(round(20_000, false), []);
  assert.equal(round(30_000, true), []);
  assert.equal(round(40_000, true), [['WEB_RESOLVED', 'nginx.service', 1]]);
  assert.equal(e.firing().map((f) => f.labels.service), ['gone.service']);
  // A round without services (the other metrics' round) judges nothing and breaks no window.
  assert.equal(e.push({ at: 50_000, memory: 50 }), []);
});

test.run();

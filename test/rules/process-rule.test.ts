// `metric: process` rules: read from the config (match on the name or match_cmdline on the command
// line, below defaulting to 1, every problem at its line with its code), overridden per agent,
// carried on the wire, and judged by the agent's evaluator on the counts (fires below, resolves at it).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatProblems, parseConfigText } from '../../common/config/file.ts';
import { finishRules, RULE_READERS, type RulesConfig } from '../../common/rules/config.ts';
import { rulesFor } from '../../common/rules/resolve.ts';
import { alertType, processRule } from '../../common/rules/rule.ts';
import { RuleEvaluator } from '../../common/agent/rule-eval.ts';
import { parseManagerMessage } from '../../common/wire/messages.ts';

const test = suite('rules/process-rule');
const parse = (text: string) => parseConfigText(text, 'h.yaml', [], RULE_READERS, finishRules);

test('config: the issue\'s example, a list of names, a command line; below defaults to 1', () => {
  const f = parse([
    'rules:',
    '  nginx_running: { metric: process, match: "nginx*", below: 1, for: 30s }',
    '  workers: { metric: process, match: [php-fpm*, "php8.?-fpm"], below: 4, repeat: 1h }',
    '  app: { metric: process, match_cmdline: "*java*-jar /srv/app.jar*", clear_for: 1m }',
    '',
  ].join('\n'));
  assert.equal(f.problems, []);
  const [nginx, workers, app] = (f.sections.rules as RulesConfig).rules;
  assert.equal(nginx, processRule('nginx_running', { match: ['nginx*'] }, 1, 30));
  assert.equal([nginx!.op, nginx!.threshold, nginx!.clear], ['below', 1, 0]);
  assert.equal(workers, { ...processRule('workers', { match: ['php-fpm*', 'php8.?-fpm'] }, 4, 0), repeat: 3600 });
  assert.equal(app, { ...processRule('app', { matchCmdline: ['*java*-jar /srv/app.jar*'] }, 1, 0), clearFor: 60 });
});

test('config: bad globs are BAD_GLOB, keys the kind does not take UNKNOWN_KEY, at their line', () => {
  const cases: [string, RegExp, string | undefined][] = [
    ['rules:\n  p: { metric: process, match: "ngin[x" }\n', /p: match: bad glob "ngin\[x": a \[ without its \]/, 'BAD_GLOB'],
    ['rules:\n  p: { metric: process, match: [nginx, "[]"] }\n', /p: match: bad glob "\[\]": an empty class/, 'BAD_GLOB'],
    ['rules:\n  p: { metric: process, match_cmdline: "" }\n', /p: match_cmdline: bad glob "": an empty glob/, 'BAD_GLOB'],
    ['rules:\n  p: { metric: process, match: nginx, above: 3 }\n', /p: above is not for process rules/, 'UNKNOWN_KEY'],
    ['rules:\n  p: { metric: process, match: nginx, per: mount }\n', /p: per is not for process rules/, 'UNKNOWN_KEY'],
    ['rules:\n  p: { metric: process, match: nginx, macth: x }\n', /p: unknown key "macth": did you mean "match"\?/, 'UNKNOWN_KEY'],
    ['rules:\n  m: { metric: memory, above: 80, match_cmdline: x }\n', /m: match_cmdline is for process rules/, 'UNKNOWN_KEY'],
    ['rules:\n  p: { metric: process }\n', /p: give exactly one of match .* or match_cmdline/, undefined],
    ['rules:\n  p: { metric: process, match: a, match_cmdline: b }\n', /p: give exactly one of match/, undefined],
    ['rules:\n  p: { metric: process, match: a, below: 0 }\n', /p: below: at least 1/, undefined],
    ['rules:\n  p: { metric: process, match: a, below: 1.5 }\n', /p: below: bad count "1.5"/, undefined],
    ['rules:\n  p: { metric: process, match: a }\nagents:\n  "web-*": { p: { below: 0 } }\n', /override of p: below: at least 1/, undefined],
    ['rules:\n  p: { metric: process, match: a }\nagents:\n  "web-*": { p: { above: 2 } }\n', /override of p: a process rule has no above \(only below, for, clear_for, repeat/, 'UNKNOWN_KEY'],
  ];
  for (const [text, want, code] of cases) {
    const f = parse(text);
    assert.is(f.problems.length, 1, `${text}: ${JSON.stringify(f.problems)}`);
    assert.match(f.problems[0]!.message, want);
    assert.is(f.problems[0]!.code, code, text);
    assert.ok(f.problems[0]!.line >= 2, 'at its line');
  }
});

test('config check prints each problem with its code', () => {
  const f = parse('rules:\n  p: { metric: process, match: "ngin[x", for: 1s }\n  c: { metric: container, above: 1 }\n');
  assert.equal(formatProblems('h.yaml', f.problems).split('\n'), [
    'h.yaml:2:32: p: match: bad glob "ngin[x": a [ without its ] or a bad range (a class is [abc], [a-z] or [!abc]) [BAD_GLOB]',
    'h.yaml:3:3: c: above is not for container rules (a container runs healthy or not; they take only, for, clear_for, repeat) [UNKNOWN_KEY]',
  ]);
});

test('overrides: below, for and off per agent; the minimum keeps its clear one under it', () => {
  const f = parse('rules:\n  p: { metric: process, match: nginx, for: 30s }\nagents:\n  "lab-*": { p: off }\n  "web-*": { p: { below: 3, for: 1m } }\n');
  assert.equal(f.problems, []);
  const cfg = f.sections.rules as RulesConfig;
  assert.equal(rulesFor(cfg, { id: 'a', name: 'lab-1' }).rules, []);
  const web = rulesFor(cfg, { id: 'b', name: 'web-1' }).rules[0]!;
  assert.equal([web.threshold, web.clear, web.for, web.clearFor, web.match], [3, 2, 60, 60, ['nginx']]);
});

test('wire: the rules message carries match and matchCmdline', () => {
  const rules = [processRule('a', { match: ['nginx*'] }, 1, 5), processRule('b', { matchCmdline: ['*app.jar*'] }, 2, 0)];
  assert.equal(parseManagerMessage(JSON.stringify({ type: 'rules', version: 'v1', rules })), { type: 'rules', version: 'v1', rules });
});

test('evaluator: fires after `for` of counts below the minimum, once; resolves when back at it; labels name the glob, the value is the count', () => {
  const e = new RuleEvaluator({ intervalMs: () => 5_000, rules: [processRule('nginx_running', { match: ['nginx*'] }, 2, 10), processRule('app', { matchCmdline: ['*app.jar*'] }, 1, 0)] });
  const round = (at: number, nginx: number | undefined, app?: number) => e.push({ at, processMatches: { ...(nginx === undefined ? {} : { nginx_running: nginx }), ...(app === undefined ? {} : { app }) } })
    .map((d) => [alertType(d.rule, d.state), d.labels, d.value]);
  assert.equal(round(0, 2, 1), []);
  assert.equal(round(5_000, 1, 1), [], 'one sample below: not yet 10 s of them');
  assert.equal(round(10_000, 1, 0), [['NGINX_RUNNING', { match: 'nginx*' }, 1], ['APP', { cmdline: '*app.jar*' }, 0]], 'for: 0 fires at once');
  assert.equal(round(15_000, 0), [], 'once');
  assert.equal(round(20_000, 0), []);
  assert.equal(round(25_000, 2), [], 'back for one sample only');
  assert.equal(round(30_000, 3, 1), [['NGINX_RUNNING_RESOLVED', { match: 'nginx*' }, 2.5], ['APP_RESOLVED', { cmdline: '*app.jar*' }, 1]]);
  assert.equal(round(35_000, undefined), [], 'not counted this round: not judged');
});

test.run();

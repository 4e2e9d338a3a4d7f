// The rules and agents sections: the example reads as written; every problem at its line
// (a wrong key with a suggestion, a bad duration, a bad unit, a bad override); defaults for clear
// and clear_for; overrides resolved per agent by glob and label, later ones winning.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigText } from '../../common/config/file.ts';
import { finishRules, RULE_READERS, type RulesConfig } from '../../common/rules/config.ts';
import { rulesFor } from '../../common/rules/resolve.ts';
import { METRICS } from '../../common/rules/rule.ts';
import { parseDuration, parseSize } from '../../common/util/units.ts';

const parse = (text: string) => parseConfigText(text, 'h.yaml', [], RULE_READERS, finishRules);

const EXAMPLE = `rules:
  cpu_high:     { metric: cpu,      above: 80, for: 3s }
  memory_high:  { metric: memory,   above: 90, for: 2m }
  swap_high:    { metric: swap,     above: 50, for: 5m }
  disk_full:    { metric: disk,     above: 90, for: 5m, per: mount, exclude_fstypes: [tmpfs, overlay, squashfs] }
  net_rx_high:  { metric: net_rx_rate, above: 100MB, per: interface, for: 1m }
  procs_high:   { metric: processes, above: 2000, for: 5m }
  agent_down:   { after: 3 }
agents:
  "backup-*":   { disk_full: { above: 98 } }
  "lab-*":      { cpu_high: off }
  "role=db":    { memory_high: { above: 95, for: 10m, repeat: 1h } }
`;

test('the example config reads as written, with default clear and clear_for', () => {
  const f = parse(EXAMPLE);
  assert.equal(f.problems, []);
  const cfg = f.sections.rules as RulesConfig;
  assert.is(cfg.agentDownAfter, 3);
  assert.equal(cfg.rules.map((r) => r.name), ['cpu_high', 'memory_high', 'swap_high', 'disk_full', 'net_rx_high', 'procs_high']);
  const net = cfg.rules.find((r) => r.name === 'net_rx_high')!;
  assert.equal([net.threshold, net.clear, net.for, net.clearFor, net.per], [100e6, 95e6, 60, 60, 'interface']);
  const cpu = cfg.rules[0]!;
  assert.equal([cpu.threshold, cpu.clear, cpu.for], [80, 75, 3]);
  assert.equal(cfg.rules.find((r) => r.name === 'disk_full')!.excludeFstypes, ['tmpfs', 'overlay', 'squashfs']);
});

test('overrides by glob and label, in file order; off removes the rule', () => {
  const cfg = parse(EXAMPLE).sections.rules as RulesConfig;
  const names = (a: { name: string; labels?: Record<string, string> }) => rulesFor(cfg, { id: 'x', ...a }).rules;
  assert.is(names({ name: 'backup-1' }).find((r) => r.name === 'disk_full')!.threshold, 98);
  assert.is(names({ name: 'backup-1' }).find((r) => r.name === 'disk_full')!.clear, 93);
  assert.not.ok(names({ name: 'lab-3' }).some((r) => r.name === 'cpu_high'));
  const db = names({ name: 'pg1', labels: { role: 'db' } }).find((r) => r.name === 'memory_high')!;
  assert.equal([db.threshold, db.for, db.clearFor, db.repeat], [95, 600, 600, 3600]);
  assert.is(names({ name: 'web1' }).length, 6);
  assert.is.not(rulesFor(cfg, { id: 'a', name: 'backup-1' }).version, rulesFor(cfg, { id: 'b', name: 'web1' }).version);
  assert.is(rulesFor(cfg, { id: 'a', name: 'web1' }).version, rulesFor(cfg, { id: 'b', name: 'web2' }).version);
});

test('problems at their line: wrong key with a suggestion, bad duration, bad unit, bad override', () => {
  const f = parse([
    'rules:',
    '  memory_high: { metric: memory, above: 90, fro: 2m }',
    '  swap_high: { metric: swap, above: 50, for: 5 minutes }',
    '  net_rx_high:',
    '    metric: net_rx_rate',
    '    above: 100MiBps',
    '  load_high: { metric: load, above: 5 }',
    '  disk_full: { metric: disk, above: 90, clear: 95 }',
    '  cpu_high: { metric: cpu, above: 120 }',
    '  procs_high: { metric: processes, above: 2000 }',
    'agents:',
    '  "web-*": { memory_hi: off, swap_high: off, procs_high: { above: 20x } }',
    '  "=x": {}',
    '',
  ].join('\n'));
  assert.equal(f.problems.map((p) => `${p.line}:${p.col}: ${p.message}`), [
    '2:45: memory_high: unknown key "fro": did you mean "for"?',
    '13:3: agents: "=x": "" is not a label name (letters, digits, _ . -)',
    '3:46: swap_high: for: bad duration "5 minutes": a number of seconds, or 500ms, 30s, 10m, 1h30m, 2d, 1w',
    '6:12: net_rx_high: above: bad size "100MiBps": a number of bytes, or 64k, 32M, 1G (KiB, MiB, GiB), 500KB, 100MB (1000s), 1.5GiB, 100Mbit, 1Gbit (per second for rates)',
    `7:24: load_high: metric "load" is not one of ${METRICS.join(', ')}`,
    '8:48: disk_full: clear 95 must be at or inside the threshold 90, or it would resolve while still past it',
    '9:35: cpu_high: above: bad percentage "120": a number from 0 to 100',
    '12:14: agents "web-*": no rule "memory_hi": did you mean "memory_high"?',
    '12:67: override of procs_high: above: bad count "20x": a whole number',
  ]);
});

test('units: sizes decimal and binary, bits, rates; durations combined', () => {
  assert.equal([parseSize('100MB'), parseSize('1Gbit'), parseSize('1.5GiB'), parseSize('10MB/s'), parseSize(500)].map((r) => r.ok && r.value), [1e8, 1.25e8, 1.5 * 1024 ** 3, 1e7, 500]);
  assert.equal([parseDuration('3s'), parseDuration('2m'), parseDuration('1h30m'), parseDuration('500ms'), parseDuration(7)].map((r) => r.ok && r.value), [3, 120, 5400, 0.5, 7]);
  assert.is(parseDuration('-1s').ok, false);
  assert.is(parseSize('lots').ok, false);
});

test.run();

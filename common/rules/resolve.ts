// The rules one agent runs: the config's rules with the `agents:` entries that select it applied
// in file order (a later entry wins), and a version naming the result, which the agent reports back.

import { createHash } from 'node:crypto';
import type { RuleChange, RulesConfig } from './config.ts';
import { defaultClear, type Rule, type RuleSetForAgent } from './rule.ts';
import { matches, type Selectable } from './selector.ts';

export function applyChange(rule: Rule, c: RuleChange): Rule {
  const r: Rule = { ...rule };
  for (const op of ['above', 'below'] as const) {
    const v = c[op];
    if (v === undefined) continue;
    r.op = op;
    r.threshold = v;
    r.clear = defaultClear(r.metric, op, v);
    if (r.critical !== undefined && (op === 'above' ? r.critical < v : r.critical > v)) delete r.critical;
  }
  if (c.critical !== undefined) r.critical = c.critical;
  if (c.clear !== undefined) r.clear = c.clear;
  if (c.for !== undefined) {
    r.for = c.for;
    if (c.clearFor === undefined) r.clearFor = c.for;
  }
  if (c.clearFor !== undefined) r.clearFor = c.clearFor;
  if (c.repeat !== undefined) r.repeat = c.repeat;
  return r;
}

export function rulesFor(cfg: RulesConfig, agent: Selectable): RuleSetForAgent {
  const byName = new Map(cfg.rules.map((r) => [r.name, r as Rule | null]));
  for (const o of cfg.overrides) {
    if (!matches(o.selector, agent)) continue;
    for (const [name, change] of Object.entries(o.changes)) {
      const base = cfg.rules.find((r) => r.name === name);
      if (!base) continue;
      if (change === 'off') byName.set(name, null);
      else byName.set(name, applyChange(byName.get(name) ?? base, change));
    }
  }
  const rules = [...byName.values()].filter((r): r is Rule => r !== null);
  return { version: rulesVersion(rules), rules };
}

/** A short stable name of a rule list (its JSON's sha256). */
export function rulesVersion(rules: Rule[]): string {
  return createHash('sha256').update(JSON.stringify(rules)).digest('hex').slice(0, 12);
}

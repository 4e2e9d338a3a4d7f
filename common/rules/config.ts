// The `rules:` and `agents:` sections of the manager's config file, read with every problem at its
// line. `rules:` defines what is judged (agent_down, judged by the manager, among them); `agents:`
// adjusts or turns off rules for the agents a glob or label=value selects, later entries winning.

import { isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { MAX_RULES } from '../wire/constants.ts';
import type { ConfigContext, SectionReader } from '../config/file.ts';
import { closest } from '../config/keys.ts';
import { containerRule, DEFAULT_EXCLUDE_FSTYPES, defaultClear, METRICS, processRule, RULE_NAME_RE, serviceRule, valueParser, type Metric, type Rule } from './rule.ts';
import { checkSelector, globProblem } from './selector.ts';
import { parseDuration, type Parsed } from '../util/units.ts';

/** What an `agents:` entry changes in one rule: numbers already in the rule's units. */
export interface RuleChange {
  above?: number;
  below?: number;
  critical?: number;
  clear?: number;
  for?: number;
  clearFor?: number;
  repeat?: number;
}

export interface RuleOverride {
  selector: string;
  changes: Record<string, 'off' | RuleChange>;
}

export interface RulesConfig {
  rules: Rule[];
  /** intervals of silence before AGENT_DOWN (the manager's rule) */
  agentDownAfter?: number;
  overrides: RuleOverride[];
}

const RULE_KEYS = ['metric', 'above', 'below', 'critical', 'for', 'clear', 'clear_for', 'repeat', 'per', 'exclude_fstypes', 'only', 'match', 'match_cmdline'];
/** What a `metric: service` rule takes: it has no threshold (a service runs or not). */
const SERVICE_KEYS = ['metric', 'match', 'for', 'clear_for', 'repeat'];
/** `metric: process`: a count of matching processes, below a minimum (default 1). */
const PROCESS_KEYS = ['metric', 'match', 'match_cmdline', 'below', 'for', 'clear_for', 'repeat'];
/** `metric: container`: each container runs, is not unhealthy and did not restart, or not. */
const CONTAINER_KEYS = ['metric', 'only', 'for', 'clear_for', 'repeat'];
/** What an `agents:` entry may change in a rule of these metrics (the rest take CHANGE_KEYS). */
const CHANGE_KEYS_OF: Partial<Record<Metric, string[]>> = {
  service: ['for', 'clear_for', 'repeat'], container: ['for', 'clear_for', 'repeat'], process: ['below', 'for', 'clear_for', 'repeat'],
};
const CHANGE_KEYS = ['above', 'below', 'critical', 'for', 'clear', 'clear_for', 'repeat'];

interface RawRule {
  name: string;
  node: Node | null;
  fields: Map<string, Node | null>;
}
interface RawOverride {
  selector: string;
  node: Node | null;
  entries: { name: string; key: Node; value: Node | null }[];
}

function pairs(node: Node | null, ctx: ConfigContext, what: string): Pair<Node, Node | null>[] | undefined {
  if (node === null || (isScalar(node) && node.value === null)) return [];
  if (!isMap(node)) {
    ctx.problem(node, `${what} must be a mapping`);
    return undefined;
  }
  return node.items as Pair<Node, Node | null>[];
}

const keyName = (n: Node): string => (isScalar(n) ? String(n.value) : '');

/** Readers for the two sections; `finishRules` turns what they read into a RulesConfig. */
export const RULE_READERS: Record<string, SectionReader> = {
  rules: (node, ctx) => {
    const out: RawRule[] = [];
    for (const p of pairs(node, ctx, 'rules') ?? []) {
      const name = keyName(p.key);
      if (!RULE_NAME_RE.test(name)) {
        ctx.problem(p.key, `rule name "${name}": lower-case letters, digits and _, starting with a letter`);
        continue;
      }
      const fields = new Map<string, Node | null>();
      for (const f of pairs(p.value, ctx, `rule ${name}`) ?? []) {
        const k = keyName(f.key);
        if (!RULE_KEYS.includes(k) && !(name === 'agent_down' && k === 'after')) {
          const hint = closest(k, name === 'agent_down' ? ['after'] : RULE_KEYS);
          ctx.problem(f.key, `${name}: unknown key "${k}"${hint ? `: did you mean "${hint}"?` : ` (known: ${RULE_KEYS.join(', ')})`}`, 'UNKNOWN_KEY');
          continue;
        }
        fields.set(k, f.value);
      }
      out.push({ name, node: p.key, fields });
    }
    if (out.length > MAX_RULES) ctx.problem(node, `${out.length} rules: at most ${MAX_RULES}`);
    return out;
  },
  agents: (node, ctx) => {
    const out: RawOverride[] = [];
    for (const p of pairs(node, ctx, 'agents') ?? []) {
      const selector = keyName(p.key);
      const bad = checkSelector(selector);
      if (bad) ctx.problem(p.key, `agents: "${selector}": ${bad}`);
      const entries: RawOverride['entries'] = [];
      for (const e of pairs(p.value, ctx, `agents "${selector}"`) ?? []) entries.push({ name: keyName(e.key), key: e.key, value: e.value });
      out.push({ selector, node: p.key, entries });
    }
    return out;
  },
};

/** Turns the raw sections into the RulesConfig (`rules` key), reporting each bad value. */
export function finishRules(sections: Record<string, unknown>, ctx: ConfigContext): Record<string, unknown> {
  const rawRules = sections.rules as RawRule[] | undefined;
  const rawAgents = sections.agents as RawOverride[] | undefined;
  const rest = { ...sections };
  delete rest.rules;
  delete rest.agents;
  if (!rawRules && !rawAgents) return rest;
  const cfg: RulesConfig = { rules: [], overrides: [] };
  for (const raw of rawRules ?? []) {
    if (raw.name === 'agent_down') {
      const after = raw.fields.get('after');
      const n = after === undefined ? 3 : isScalar(after) ? Number(after.value) : NaN;
      if (!Number.isInteger(n) || n < 1 || n > 1000) ctx.problem(after ?? raw.node, 'agent_down: after: a whole number of intervals from 1 to 1000');
      else cfg.agentDownAfter = n;
      continue;
    }
    const rule = readRule(raw, ctx);
    if (rule) cfg.rules.push(rule);
  }
  const byName = new Map(cfg.rules.map((r) => [r.name, r]));
  for (const raw of rawAgents ?? []) {
    const changes: RuleOverride['changes'] = {};
    for (const e of raw.entries) {
      const rule = byName.get(e.name);
      // A rule with problems of its own was reported there already.
      if (!rule && rawRules?.some((r) => r.name === e.name)) continue;
      if (!rule) {
        const hint = closest(e.name, byName.keys());
        ctx.problem(e.key, `agents "${raw.selector}": no rule "${e.name}"${hint ? `: did you mean "${hint}"?` : ''}`);
        continue;
      }
      if (isScalar(e.value) && (e.value.value === 'off' || e.value.value === false)) {
        changes[e.name] = 'off';
        continue;
      }
      const change = readChange(rule, e.value, ctx);
      if (change) changes[e.name] = change;
    }
    cfg.overrides.push({ selector: raw.selector, changes });
  }
  return { ...rest, rules: cfg };
}

function scalarOf(node: Node | null | undefined): unknown {
  return isScalar(node) ? node.value : undefined;
}

function num(ctx: ConfigContext, node: Node | null | undefined, label: string, parse: (v: unknown) => Parsed): number | undefined {
  const v = scalarOf(node);
  if (v === undefined || v === null) {
    ctx.problem(node, `${label}: expects a value`);
    return undefined;
  }
  const r = parse(v);
  if (!r.ok) {
    ctx.problem(node, `${label}: ${r.error}`);
    return undefined;
  }
  return r.value;
}

function readRule(raw: RawRule, ctx: ConfigContext): Rule | undefined {
  const f = raw.fields;
  const n = raw.name;
  const metricNode = f.get('metric');
  const metric = scalarOf(metricNode) as Metric;
  if (!METRICS.includes(metric)) {
    const hint = closest(String(metric ?? ''), METRICS);
    ctx.problem(metricNode ?? raw.node, `${n}: metric ${metric === undefined ? 'is missing' : `"${String(metric)}" is not one of ${METRICS.join(', ')}`}${hint && metric !== undefined ? ` (did you mean "${hint}"?)` : ''}`);
    return undefined;
  }
  if (metric === 'service') return readServiceRule(raw, ctx);
  if (metric === 'process') return readProcessRule(raw, ctx);
  if (metric === 'container') return readContainerRule(raw, ctx);
  for (const k of ['match', 'match_cmdline']) {
    if (!f.has(k)) continue;
    ctx.problem(f.get(k), `${n}: ${k} is for ${k === 'match' ? 'service and process rules (metric: service, metric: process)' : 'process rules (metric: process)'}`, 'UNKNOWN_KEY');
    return undefined;
  }
  const parse = valueParser(metric);
  if (f.has('above') === f.has('below')) {
    ctx.problem(raw.node, `${n}: give exactly one of above or below`);
    return undefined;
  }
  const op = f.has('above') ? 'above' : 'below';
  const threshold = num(ctx, f.get(op), `${n}: ${op}`, parse);
  const forS = f.has('for') ? num(ctx, f.get('for'), `${n}: for`, parseDuration) : 0;
  if (threshold === undefined || forS === undefined) return undefined;
  const rule: Rule = { name: n, metric, op, threshold, clear: defaultClear(metric, op, threshold), for: forS, clearFor: forS };
  if (!applyFields(rule, f, ctx, parse)) return undefined;
  const per = scalarOf(f.get('per'));
  if (per !== undefined) {
    const want = metric === 'disk' ? 'mount' : metric === 'net_rx_rate' || metric === 'net_tx_rate' ? 'interface' : undefined;
    if (per !== want) {
      ctx.problem(f.get('per'), want ? `${n}: per: "${String(per)}" for ${metric} must be "${want}"` : `${n}: per: ${metric} has one value, nothing to split by`);
      return undefined;
    }
    rule.per = want;
  }
  for (const key of ['exclude_fstypes', 'only'] as const) {
    const node = f.get(key);
    if (node === undefined) continue;
    if (!isSeq(node) || !node.items.every((i) => isScalar(i) && typeof i.value === 'string')) {
      ctx.problem(node, `${n}: ${key}: a list of names, e.g. [tmpfs, overlay]`);
      return undefined;
    }
    if (key === 'exclude_fstypes' && metric !== 'disk') {
      ctx.problem(node, `${n}: exclude_fstypes is for disk rules`);
      return undefined;
    }
    if (!rule.per) {
      ctx.problem(node, `${n}: ${key} needs per: ${metric === 'disk' ? 'mount' : 'interface'}`);
      return undefined;
    }
    const list = node.items.map((i) => String((i as { value: unknown }).value));
    if (key === 'only') rule.only = list;
    else rule.excludeFstypes = list;
  }
  if (rule.per === 'mount' && !rule.excludeFstypes) rule.excludeFstypes = DEFAULT_EXCLUDE_FSTYPES;
  return rule;
}

/** A key the rules of this kind do not take: said with what they take. */
function onlyKeys(raw: RawRule, ctx: ConfigContext, keys: string[], kind: string, why: string): boolean {
  for (const k of raw.fields.keys()) {
    if (keys.includes(k)) continue;
    ctx.problem(raw.node, `${raw.name}: ${k} is not for ${kind} rules (${why}; they take ${keys.slice(1).join(', ')})`, 'UNKNOWN_KEY');
    return false;
  }
  return true;
}

/** A glob or a list of them, each checked (BAD_GLOB); undefined after a problem. */
function globList(raw: RawRule, key: string, ctx: ConfigContext, hint: string): string[] | undefined {
  const node = raw.fields.get(key);
  const items = node === undefined ? undefined : isSeq(node) ? node.items : [node];
  const list = items?.every((i) => isScalar(i) && typeof i.value === 'string') ? items.map((i) => String((i as { value: unknown }).value)) : undefined;
  if (!list || list.length === 0) {
    ctx.problem(node ?? raw.node, `${raw.name}: ${key}: ${hint}`);
    return undefined;
  }
  for (const [i, g] of list.entries()) {
    const bad = globProblem(g);
    if (!bad) continue;
    ctx.problem((isSeq(node) ? node.items[i] as Node : node) ?? raw.node, `${raw.name}: ${key}: bad glob "${g}": ${bad}`, 'BAD_GLOB');
    return undefined;
  }
  return list;
}

/** `web: { metric: service, match: "nginx.service" }`: match is a glob or a list of them. */
function readServiceRule(raw: RawRule, ctx: ConfigContext): Rule | undefined {
  const f = raw.fields;
  const n = raw.name;
  if (!onlyKeys(raw, ctx, SERVICE_KEYS, 'service', 'a service runs or not')) return undefined;
  const match = globList(raw, 'match', ctx, 'the services to watch, a name or glob or a list of them, e.g. match: "nginx.service" (on Windows the service name)');
  if (!match) return undefined;
  const forS = f.has('for') ? num(ctx, f.get('for'), `${n}: for`, parseDuration) : 0;
  if (forS === undefined) return undefined;
  const rule = serviceRule(n, match, forS);
  return applyFields(rule, f, ctx, valueParser('processes')) ? rule : undefined;
}

/**
 * `nginx_running: { metric: process, match: "nginx*", below: 1, for: 30s }`: match globs the
 * process name, match_cmdline the command line (exactly one of them); below defaults to 1.
 */
function readProcessRule(raw: RawRule, ctx: ConfigContext): Rule | undefined {
  const f = raw.fields;
  const n = raw.name;
  if (!onlyKeys(raw, ctx, PROCESS_KEYS, 'process', 'they count processes below a minimum')) return undefined;
  if (f.has('match') === f.has('match_cmdline')) {
    ctx.problem(raw.node, `${n}: give exactly one of match (globs on the process name, e.g. match: "nginx*") or match_cmdline (globs on the command line, e.g. match_cmdline: "*gunicorn*app:server*")`);
    return undefined;
  }
  const key = f.has('match') ? 'match' : 'match_cmdline';
  const globs = globList(raw, key, ctx, key === 'match' ? 'the process names to count, a glob or a list of them, e.g. match: "nginx*"' : 'the command lines to count, a glob or a list of them, e.g. match_cmdline: "*java*-jar app.jar*"');
  if (!globs) return undefined;
  const below = f.has('below') ? num(ctx, f.get('below'), `${n}: below`, valueParser('process')) : 1;
  const forS = f.has('for') ? num(ctx, f.get('for'), `${n}: for`, parseDuration) : 0;
  if (below === undefined || forS === undefined) return undefined;
  if (below < 1) {
    ctx.problem(f.get('below'), `${n}: below: at least 1 (fewer than 0 processes never run)`);
    return undefined;
  }
  const rule = processRule(n, key === 'match' ? { match: globs } : { matchCmdline: globs }, below, forS);
  return applyFields(rule, f, ctx, valueParser('process')) ? rule : undefined;
}

/** `containers_down: { metric: container, only: ["web-*"], for: 30s }`: only is optional (every container). */
function readContainerRule(raw: RawRule, ctx: ConfigContext): Rule | undefined {
  const f = raw.fields;
  const n = raw.name;
  if (!onlyKeys(raw, ctx, CONTAINER_KEYS, 'container', 'a container runs healthy or not')) return undefined;
  const only = f.has('only') ? globList(raw, 'only', ctx, 'the containers to watch by name, a glob or a list of them, e.g. only: ["web-*"]') : undefined;
  if (f.has('only') && !only) return undefined;
  const forS = f.has('for') ? num(ctx, f.get('for'), `${n}: for`, parseDuration) : 0;
  if (forS === undefined) return undefined;
  const rule = containerRule(n, only, forS);
  return applyFields(rule, f, ctx, valueParser('container')) ? rule : undefined;
}

/** critical, clear, clear_for, repeat: shared by rules and overrides. False after a problem. */
function applyFields(rule: Rule, f: Map<string, Node | null>, ctx: ConfigContext, parse: (v: unknown) => Parsed): boolean {
  const n = rule.name;
  let ok = true;
  if (f.has('critical')) {
    const v = num(ctx, f.get('critical'), `${n}: critical`, parse);
    if (v === undefined) ok = false;
    else if (rule.op === 'above' ? v < rule.threshold : v > rule.threshold) {
      ctx.problem(f.get('critical'), `${n}: critical ${v} must be past the threshold ${rule.threshold} (${rule.op} it)`);
      ok = false;
    } else rule.critical = v;
  }
  if (f.has('clear')) {
    const v = num(ctx, f.get('clear'), `${n}: clear`, parse);
    if (v === undefined) ok = false;
    else if (rule.op === 'above' ? v > rule.threshold : v < rule.threshold) {
      ctx.problem(f.get('clear'), `${n}: clear ${v} must be at or inside the threshold ${rule.threshold}, or it would resolve while still past it`);
      ok = false;
    } else rule.clear = v;
  }
  if (f.has('clear_for')) {
    const v = num(ctx, f.get('clear_for'), `${n}: clear_for`, parseDuration);
    if (v === undefined) ok = false;
    else rule.clearFor = v;
  }
  if (f.has('repeat')) {
    const v = num(ctx, f.get('repeat'), `${n}: repeat`, parseDuration);
    if (v === undefined) ok = false;
    else if (v < 1) {
      ctx.problem(f.get('repeat'), `${n}: repeat: at least 1s`);
      ok = false;
    } else rule.repeat = v;
  }
  return ok;
}

function readChange(rule: Rule, node: Node | null, ctx: ConfigContext): RuleChange | undefined {
  const f = new Map<string, Node | null>();
  const kindKeys = CHANGE_KEYS_OF[rule.metric];
  for (const p of pairs(node, ctx, `override of ${rule.name}`) ?? []) {
    const k = keyName(p.key);
    if (kindKeys && CHANGE_KEYS.includes(k) && !kindKeys.includes(k)) {
      ctx.problem(p.key, `override of ${rule.name}: a ${rule.metric} rule has no ${k} (only ${kindKeys.join(', ')}; or "off")`, 'UNKNOWN_KEY');
      return undefined;
    }
    if (!CHANGE_KEYS.includes(k)) {
      const hint = closest(k, CHANGE_KEYS);
      ctx.problem(p.key, `override of ${rule.name}: "${k}" cannot be changed per agent${hint ? ` (did you mean "${hint}"?)` : ` (only ${(kindKeys ?? CHANGE_KEYS).join(', ')}; or "off")`}`, 'UNKNOWN_KEY');
      return undefined;
    }
    f.set(k, p.value);
  }
  // Checked by applying it to the rule, so the same limits hold as for the rule itself.
  const trial = applyChangeNodes(rule, f, ctx);
  if (!trial) return undefined;
  const change: RuleChange = {};
  if (f.has('above') || f.has('below')) change[trial.op] = trial.threshold;
  if (f.has('critical')) change.critical = trial.critical!;
  if (f.has('clear')) change.clear = trial.clear;
  if (f.has('for')) change.for = trial.for;
  if (f.has('clear_for')) change.clearFor = trial.clearFor;
  if (f.has('repeat')) change.repeat = trial.repeat!;
  return change;
}

function applyChangeNodes(rule: Rule, f: Map<string, Node | null>, ctx: ConfigContext): Rule | undefined {
  const parse = valueParser(rule.metric);
  const r: Rule = { ...rule };
  if (f.has('above') && f.has('below')) {
    ctx.problem(f.get('below'), `override of ${rule.name}: give one of above or below`);
    return undefined;
  }
  for (const op of ['above', 'below'] as const) {
    if (!f.has(op)) continue;
    const v = num(ctx, f.get(op), `override of ${rule.name}: ${op}`, parse);
    if (v === undefined) return undefined;
    if (rule.metric === 'process' && v < 1) {
      ctx.problem(f.get(op), `override of ${rule.name}: below: at least 1 (fewer than 0 processes never run)`);
      return undefined;
    }
    r.op = op;
    r.threshold = v;
    r.clear = defaultClear(r.metric, op, v);
    if (r.critical !== undefined && (op === 'above' ? r.critical < v : r.critical > v)) delete r.critical;
  }
  if (f.has('for')) {
    const v = num(ctx, f.get('for'), `override of ${rule.name}: for`, parseDuration);
    if (v === undefined) return undefined;
    r.for = v;
    if (!f.has('clear_for')) r.clearFor = v;
  }
  return applyFields(r, f, ctx, parse) ? r : undefined;
}

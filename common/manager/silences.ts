// Silences: an administrator holds back notification for some agents (a name, glob or label=value)
// and optionally one rule, for a while. Alerts are still recorded and shown, marked silenced; the
// notifiers ask isSilenced(). Kept in <data-dir>/silences.json (writeDurable), so a restart keeps
// them; each expires by itself.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { readState, writeDurable } from '../fs/durable.ts';
import { RULE_NAME_RE } from '../rules/rule.ts';
import { checkSelector, matches, type Selectable } from '../rules/selector.ts';

/** Silences in force at once, and the longest one. */
const MAX_SILENCES = 1000;
const MAX_SILENCE_S = 90 * 86_400;

export const SILENCES_FILE = 'silences.json';

export interface Silence {
  id: string;
  selector: string;
  /** only this rule's alerts (all rules when absent) */
  rule?: string;
  reason?: string;
  by: string;
  createdAt: number;
  until: number;
}

export class Silences {
  private readonly path: string;
  private readonly now: () => number;
  private list: Silence[];

  /** Throws STATE_CORRUPT when silences.json exists but cannot be read. */
  constructor(o: { dataDir: string; now: () => number }) {
    this.path = join(o.dataDir, SILENCES_FILE);
    this.now = o.now;
    this.list = readState(this.path, parseFile, 'fix it or move it away (the silences in it are then forgotten)') ?? [];
  }

  /** The silences in force, soonest to end first. */
  active(): Silence[] {
    const t = this.now();
    return this.list.filter((s) => s.until > t).sort((a, b) => a.until - b.until);
  }

  /** Adds a silence; STORAGE_FAILED (nothing added) when the disk refuses the file. */
  add(s: { selector: string; rule?: string; forS: number; reason?: string; by: string }): Silence {
    const bad = checkSelector(s.selector);
    if (bad) throw new HwError('BAD_ARGS', `silence ${s.selector}: ${bad}`);
    if (s.rule !== undefined && !RULE_NAME_RE.test(s.rule)) throw new HwError('BAD_ARGS', `--rule "${s.rule}" is not a rule name (see \`manager rules\`)`);
    if (!(s.forS > 0 && s.forS <= MAX_SILENCE_S)) throw new HwError('BAD_ARGS', `--for: from 1s to ${MAX_SILENCE_S / 86_400} days`);
    if (s.reason !== undefined && s.reason.length > 500) throw new HwError('BAD_ARGS', '--reason: at most 500 characters');
    const live = this.active();
    if (live.length >= MAX_SILENCES) throw new HwError('BAD_ARGS', `${MAX_SILENCES} silences are in force already: remove some first`);
    const t = this.now();
    const silence: Silence = {
      id: randomBytes(4).toString('hex'), selector: s.selector, ...(s.rule ? { rule: s.rule } : {}), ...(s.reason ? { reason: s.reason } : {}),
      by: s.by, createdAt: t, until: t + Math.round(s.forS * 1000),
    };
    this.save([...live, silence]);
    return silence;
  }

  remove(id: string): Silence {
    const live = this.active();
    const hit = live.find((s) => s.id === id);
    if (!hit) throw new HwError('NOT_FOUND', `no silence ${id} in force (see \`manager silence list\`)`);
    this.save(live.filter((s) => s !== hit));
    return hit;
  }

  /** The silence holding back an alert of `rule` about `agent`, if any. */
  matching(agent: Selectable, rule: string): Silence | undefined {
    const t = this.now();
    return this.list.find((s) => s.until > t && (!s.rule || s.rule === rule) && matches(s.selector, agent));
  }

  private save(next: Silence[]): void {
    writeDurable(this.path, JSON.stringify(next, null, 1) + '\n');
    this.list = next;
  }
}

function parseFile(text: string): Silence[] {
  const v = JSON.parse(text) as unknown;
  if (!Array.isArray(v)) throw new Error('not a list');
  return v.map((s, i) => {
    const o = s as Record<string, unknown>;
    const ok = typeof o === 'object' && o !== null && typeof o.id === 'string' && typeof o.selector === 'string' && typeof o.by === 'string'
      && typeof o.createdAt === 'number' && typeof o.until === 'number' && (o.rule === undefined || typeof o.rule === 'string') && (o.reason === undefined || typeof o.reason === 'string');
    if (!ok) throw new Error(`entry ${i + 1} is not a silence`);
    return o as unknown as Silence;
  });
}

// Host labels (role=db): given to an agent with --label, and to agents by the manager's config
// (`labels:`, by name, glob or the agent's own label=value; the config's win). Used in selectors
// and rule overrides, shown by `agents`. The config's `labels:` section is read in labels-config.ts
// (it needs the YAML library, which the agent does not load).

import { MAX_LABELS, MAX_LABEL_KEY, MAX_LABEL_VALUE } from '../wire/constants.ts';
import { HwError } from '../errors.ts';
import { matches, type Selectable } from './selector.ts';

export const LABEL_KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Why a label is bad, or undefined. */
export function labelProblem(key: string, value: string): string | undefined {
  if (!LABEL_KEY_RE.test(key) || key.length > MAX_LABEL_KEY) return `label name "${key.slice(0, 80)}": letters, digits, _ . - (starting with a letter or _), at most ${MAX_LABEL_KEY}`;
  // eslint-disable-next-line no-control-regex
  if (!value || value.length > MAX_LABEL_VALUE || /[\u0000-\u001f\u007f]/.test(value)) return `label ${key}: the value must be 1 to ${MAX_LABEL_VALUE} printable characters`;
  return undefined;
}

/** `--label role=db` (repeatable) into a record; BAD_FLAG naming the bad one. */
export function parseLabelFlags(flags: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq < 1) throw new HwError('BAD_FLAG', `--label "${f}": expected name=value, e.g. --label role=db`);
    const k = f.slice(0, eq);
    const v = f.slice(eq + 1);
    const bad = labelProblem(k, v);
    if (bad) throw new HwError('BAD_FLAG', `--label: ${bad}`);
    out[k] = v;
  }
  if (Object.keys(out).length > MAX_LABELS) throw new HwError('BAD_FLAG', `--label: at most ${MAX_LABELS} labels`);
  return out;
}

export interface LabelAssign {
  selector: string;
  labels: Record<string, string>;
}

/** An agent's labels: its own, then each config entry that selects it (by its own labels), in order. */
export function effectiveLabels(own: Record<string, string>, assigns: LabelAssign[] | undefined, a: Omit<Selectable, 'labels'>): Record<string, string> {
  const out = { ...own };
  for (const as of assigns ?? []) if (matches(as.selector, { ...a, labels: own })) Object.assign(out, as.labels);
  // Bounded like the agent's own: the config's come last, so they are the ones kept.
  const keys = Object.keys(out);
  if (keys.length > MAX_LABELS) for (const k of keys.slice(0, keys.length - MAX_LABELS)) delete out[k];
  return out;
}

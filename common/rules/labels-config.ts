// The manager config's `labels:` section (labels.ts says what labels are).

import { isMap, isScalar, type Node, type Pair } from 'yaml';
import { MAX_LABELS } from '../wire/constants.ts';
import type { ConfigContext, SectionReader } from '../config/file.ts';
import { labelProblem, type LabelAssign } from './labels.ts';
import { checkSelector } from './selector.ts';

/** The `labels:` section: selector -> { name: value }. */
export const readLabels: SectionReader = (node: Node | null, ctx: ConfigContext) => {
  const out: LabelAssign[] = [];
  if (node === null) return out;
  if (!isMap(node)) {
    ctx.problem(node, 'labels: a mapping of agent (name, glob or label=value) to labels, e.g. "web-*": { role: web }');
    return out;
  }
  for (const p of node.items as Pair<Node, Node | null>[]) {
    const selector = isScalar(p.key) ? String(p.key.value) : '';
    const bad = checkSelector(selector);
    if (bad) ctx.problem(p.key, `labels: "${selector}": ${bad}`);
    if (!isMap(p.value)) {
      ctx.problem(p.value ?? p.key, `labels "${selector}": a mapping of label names to values`);
      continue;
    }
    const labels: Record<string, string> = {};
    for (const l of p.value.items as Pair<Node, Node | null>[]) {
      const k = isScalar(l.key) ? String(l.key.value) : '';
      const v = isScalar(l.value) && l.value.value !== null && typeof l.value.value !== 'object' ? String(l.value.value) : '';
      const problem = labelProblem(k, v);
      if (problem) ctx.problem(problem.startsWith('label name') ? l.key : l.value ?? l.key, `labels "${selector}": ${problem}`);
      else labels[k] = v;
    }
    if (Object.keys(labels).length > MAX_LABELS) ctx.problem(p.key, `labels "${selector}": at most ${MAX_LABELS} labels`);
    out.push({ selector, labels });
  }
  return out;
};

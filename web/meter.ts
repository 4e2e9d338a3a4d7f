// CPU, memory and disk as small meters coloured by the host's own rules (rule-limits.ts): the bar
// in the level's colour, the value beside it as text at full contrast, the rule's lines in the
// cell's tooltip.

import { h } from './dom.ts';
import { pct } from './format.ts';
import { levelOf, type Limit } from './rule-limits.ts';

export interface Meter {
  /** one element a meter (1,000 rows draw three each): its fill is a gradient at --v */
  bar: HTMLSpanElement;
  text: Text;
}

/** A meter in `cell`: the bar (hidden from screen readers: the text says the value), then the text. */
export function meterIn(cell: HTMLElement): Meter {
  const bar = h('span', { class: 'meter-bar', 'aria-hidden': 'true' });
  const text = document.createTextNode('');
  cell.append(bar, text);
  return { bar, text };
}

export function setMeter(m: Meter, cell: HTMLElement, v: number | null | undefined, limit: Limit | null): void {
  const level = levelOf(v, limit);
  if (cell.dataset.level !== level) cell.dataset.level = level;
  const w = typeof v === 'number' ? `${Math.max(0, Math.min(100, v)).toFixed(1)}%` : '0%';
  if (m.bar.style.getPropertyValue('--v') !== w) m.bar.style.setProperty('--v', w);
  const t = pct(v);
  if (m.text.data !== t) m.text.data = t;
}

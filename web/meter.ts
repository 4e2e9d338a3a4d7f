// CPU, memory and disk as small meters coloured by the host's own rule lines (rule-limits.ts): the
// bar in the level's colour, the value beside it as text at full contrast, the rule's lines in the
// cell's tooltip. Built once a row; an update writes only what changed, compared with what it last
// wrote (kept here, not read back from the DOM: a style read costs more than a string compare).

import { h } from './dom.ts';
import { pct } from './format.ts';
import { levelOf, type Level, type Limit } from './rule-limits.ts';

export interface Meter {
  cell: HTMLElement;
  /** one element a meter (1,000 rows draw three each): its fill is a gradient at --v */
  bar: HTMLSpanElement;
  text: Text;
  /** what was last written */
  level: Level | '';
  width: string;
  title: string;
}

/** A meter in `cell`: the bar (hidden from screen readers: the text says the value), then the text. */
export function meterIn(cell: HTMLElement): Meter {
  const bar = h('span', { class: 'meter-bar', 'aria-hidden': 'true' });
  const text = document.createTextNode('');
  cell.append(bar, text);
  return { cell, bar, text, level: '', width: '', title: '' };
}

/** The value, its level against `limit`, and the cell's tooltip. */
export function setMeter(m: Meter, v: number | null | undefined, limit: Limit | null, title: string): void {
  const level = levelOf(v, limit);
  if (m.level !== level) m.cell.setAttribute('data-level', (m.level = level));
  const w = typeof v === 'number' ? `${Math.max(0, Math.min(100, v)).toFixed(1)}%` : '0%';
  if (m.width !== w) m.bar.style.setProperty('--v', (m.width = w));
  const t = pct(v);
  if (m.text.data !== t) m.text.data = t;
  if (m.title !== title) m.cell.title = m.title = title;
}

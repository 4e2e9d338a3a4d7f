// Every alert, newest first, filtered by host and type, live.

import { h, replace } from '../dom.ts';
import type { PageContext } from '../page.ts';
import { store } from '../store.ts';
import type { Alert } from '../types.ts';
import { alertRow, alertTable } from './host.ts';

const SHOWN = 1000;

export function alertsPage(main: HTMLElement, _ctx: PageContext): () => void {
  const host = h('input', { id: 'alert-host', type: 'search', placeholder: 'any host' });
  const type = h('select', { id: 'alert-type' });
  const box = h('div', { class: 'table-wrap' });
  const note = h('p', { class: 'muted small', 'aria-live': 'polite' });
  let tbody: HTMLTableSectionElement | null = null;

  const matches = (a: Alert) => (!host.value.trim() || a.agent.toLowerCase().includes(host.value.trim().toLowerCase())) && (!type.value || a.type === type.value);

  function fillTypes(): void {
    const types = [...new Set(store.alerts.map((a) => a.type))].sort();
    const keep = type.value;
    replace(type, h('option', { value: '' }, 'any'), types.map((t) => h('option', { value: t }, t)));
    type.value = types.includes(keep) ? keep : '';
  }

  function render(): void {
    const list = store.alerts.filter(matches);
    const shown = list.slice(-SHOWN).reverse();
    const t = alertTable(shown, true);
    tbody = shown.length ? t.tBodies[0] ?? null : null;
    replace(box, shown.length ? t : h('p', { class: 'muted' }, store.alerts.length ? 'No alert matches the filter.' : 'No alerts yet.'));
    note.textContent = `${list.length} alert${list.length === 1 ? '' : 's'}${list.length > SHOWN ? `, the newest ${SHOWN} shown` : ''}`;
  }

  host.addEventListener('input', render);
  type.addEventListener('change', render);
  const unsub = store.subscribe({
    alert: (a) => {
      if (![...type.options].some((o) => o.value === a.type)) fillTypes();
      if (!matches(a)) return;
      if (!tbody) return render();
      tbody.insertBefore(alertRow(a, true), tbody.firstChild);
      if (tbody.rows.length > SHOWN) tbody.deleteRow(-1);
      note.textContent = `${store.alerts.filter(matches).length} alerts`;
    },
    reset: () => {
      fillTypes();
      render();
    },
  });
  replace(main,
    h('div', { class: 'page-head' }, h('h1', null, 'Alerts')),
    h('div', { class: 'filters', role: 'search' },
      h('span', { class: 'field' }, h('label', { for: 'alert-host' }, 'Host'), host),
      h('span', { class: 'field' }, h('label', { for: 'alert-type' }, 'Type'), type)),
    note, box);
  fillTypes();
  render();
  return unsub;
}

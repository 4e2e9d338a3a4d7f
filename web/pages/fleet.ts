// The fleet: one row per agent, counts on top, filter by name and state, sort by any column, live.
// CPU, memory and disk are meters in the colours of the host's own rules; an alerting row names
// what fires and the process behind a CPU or memory alert; an agent older than the manager is
// marked; the last rollout sits above the table.
// Rows are built once and patched in place (textContent only when it changed); a screenful is
// drawn and painted first, then the rest in one go (one table layout for them, not one a batch).
// Sparklines are drawn when in view, in a colour read once (a style read), not once a row.

import { h, replace, setText } from '../dom.ts';
import { ago, bytes, duration, pct, rate, samplesLost } from '../format.ts';
import { meterIn, setMeter, type Meter } from '../meter.ts';
import { limitOf, limitText, type Limit, type MeterMetric } from '../rule-limits.ts';
import type { PageContext } from '../page.ts';
import { drawRollout } from '../rollout.ts';
import { sparkCanvas } from '../sparkline.ts';
import { LazySparks } from '../spark-lazy.ts';
import { store } from '../store.ts';
import { cssVar, onThemeChange } from '../theme.ts';
import { stateOf, worstMount, type Agent, type Alert } from '../types.ts';
import { versionMark } from '../version.ts';

interface Column {
  key: string;
  label: string;
  num?: boolean;
  value: (a: Agent) => number | string;
  text: (a: Agent) => string;
  /** the cell's tooltip */
  title?: (a: Agent) => string;
  /** drawn as a meter in the colours of this metric's rules */
  gauge?: MeterMetric;
}

const m = (a: Agent, k: string) => a.metrics?.[k];
const num = (v: unknown) => (typeof v === 'number' ? v : -1);

const COLUMNS: Column[] = [
  { key: 'name', label: 'Name', value: (a) => a.name.toLowerCase(), text: (a) => a.name },
  { key: 'state', label: 'State', value: (a) => stateOf(a), text: (a) => stateOf(a) },
  { key: 'cpu', label: 'CPU', num: true, gauge: 'cpu', value: (a) => num(m(a, 'cpuPercent')), text: (a) => pct(m(a, 'cpuPercent')) },
  { key: 'mem', label: 'Memory', num: true, gauge: 'memory', value: (a) => num(m(a, 'memPercent')), text: (a) => pct(m(a, 'memPercent')) },
  // The fullest mount, named in the tooltip: a full /var matters as much as a full root.
  { key: 'disk', label: 'Disk', num: true, gauge: 'disk', value: (a) => num(worstMount(a)?.percent), text: (a) => pct(worstMount(a)?.percent),
    title: (a) => { const w = worstMount(a); return w ? `fullest mount: ${w.mount} (${pct(w.percent)})` : ''; } },
  { key: 'rx', label: 'Net in', num: true, value: (a) => num(m(a, 'netRxRate')), text: (a) => rate(m(a, 'netRxRate')) },
  { key: 'tx', label: 'Net out', num: true, value: (a) => num(m(a, 'netTxRate')), text: (a) => rate(m(a, 'netTxRate')) },
  { key: 'uptime', label: 'Uptime', num: true, value: (a) => num(m(a, 'uptimeSeconds')), text: (a) => duration(m(a, 'uptimeSeconds')) },
  { key: 'procs', label: 'Processes', num: true, value: (a) => num(m(a, 'processCount')), text: (a) => (typeof m(a, 'processCount') === 'number' ? String(m(a, 'processCount')) : '-') },
  { key: 'seen', label: 'Last seen', num: true, value: (a) => (a.lastSeen ? Date.parse(a.lastSeen) : 0), text: (a) => ago(a.lastSeen) },
  { key: 'alerts', label: 'Alerts', value: (a) => store.activeAlerts(a.id).length, text: (a) => firingText(a, false) || '-', title: (a) => firingText(a, true) },
  // Older agents first when sorted ascending: the ones a rollout has left to do.
  { key: 'version', label: 'Version', value: (a) => `${versionMark(a.version, store.managerVersion) === 'older' ? 0 : 1} ${a.version}`, text: (a) => a.version || 'unknown' },
];

const ALERTS_COL = COLUMNS.findIndex((c) => c.key === 'alerts');
const SEEN_COL = COLUMNS.findIndex((c) => c.key === 'seen');
const VERSION_COL = COLUMNS.findIndex((c) => c.key === 'version');

/** The value a meter shows and the rule line it is judged against. */
function gaugeOf(a: Agent, g: MeterMetric): { v: number | null | undefined; limit: Limit | null } {
  const set = store.limitsOf(a.id);
  if (g !== 'disk') return { v: m(a, g === 'cpu' ? 'cpuPercent' : 'memPercent'), limit: limitOf(set?.[g]) };
  const w = worstMount(a);
  if (!w) return { v: undefined, limit: null };
  return { v: w.percent, limit: limitOf(set?.disk[w.mount]) };
}

/** The process an alert names first: its CPU for a cpu rule, its memory for a memory rule. */
function causeOf(al: Alert, all: boolean): string {
  const top = al.top ?? [];
  if (!top.length) return '';
  const metric = store.ruleMetric(al.rule) ?? (/CPU/.test(al.type) ? 'cpu' : 'memory');
  const one = (p: (typeof top)[number]) => `${p.name} (pid ${p.pid}) ${metric === 'memory' ? bytes(p.memBytes) : pct(p.cpuPercent)}`;
  return (all ? top : top.slice(0, 1)).map(one).join(', ');
}

/** What fires on the host: each alert's type, its mount or interface, and the process behind it. */
function firingText(a: Agent, all: boolean): string {
  return store.activeAlerts(a.id).map((al) => {
    const where = al.labels ? Object.values(al.labels).join(' ') : '';
    const cause = causeOf(al, all);
    return `${al.type}${where ? ` ${where}` : ''}${cause ? `: ${cause}` : ''}${all && typeof al.threshold === 'number' ? ` (${pct(al.value)}, fires at ${pct(al.threshold)})` : ''}`;
  }).join(all ? '\n' : '; ');
}

interface Row {
  tr: HTMLTableRowElement;
  cells: HTMLTableCellElement[];
  link: HTMLAnchorElement;
  spark: HTMLCanvasElement;
  stateBadge: HTMLSpanElement;
  /** shown beside the state when samples of the host never reached its history */
  lostBadge: HTMLSpanElement;
  meters: Map<string, Meter>;
  version: Text;
  /** shown beside the version when it is older than the manager's or unknown */
  versionBadge: HTMLSpanElement;
}

const STATES = ['online', 'offline', 'down', 'restarting'] as const;
/** Rows drawn before the first paint: a tall screen's worth. */
const FIRST_ROWS = 60;

/** Runs `fn` once the next frame is painted (a timer set in the frame's callback runs after it); returns its cancel. */
function afterPaint(fn: () => void): () => void {
  let timer = 0;
  const frame = requestAnimationFrame(() => (timer = window.setTimeout(fn)));
  return () => {
    cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
}

export function fleetPage(main: HTMLElement, _ctx: PageContext): () => void {
  const saved = JSON.parse(sessionStorage.getItem('fleet-view') ?? '{}') as { sort?: string; dir?: number; q?: string; state?: string };
  let sortKey = saved.sort ?? 'name';
  let sortDir = saved.dir ?? 1;
  const filter = h('input', { id: 'fleet-filter', type: 'search', placeholder: 'name, host or address', value: saved.q ?? '' });
  const stateSel = h('select', { id: 'fleet-state' }, h('option', { value: '' }, 'any'), STATES.map((s) => h('option', { value: s }, s)));
  stateSel.value = saved.state ?? '';
  const counts = h('div', { class: 'counts', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const headRow = h('tr');
  const table = h('table', { class: 'fleet' }, h('caption', { class: 'sr-only' }, 'Agents'), h('thead', null, headRow), tbody);
  const empty = h('p', { class: 'muted' });
  const rows = new Map<string, Row>();
  /** the sparklines' colour, read once (again after a theme change) */
  let accentNow = '';
  const accent = () => (accentNow ||= cssVar('--accent'));
  const sparks = new LazySparks();
  let order: string[] = [];
  let cancelRest = () => {};
  let dirtyOrder = true;

  const sortButtons = new Map<string, HTMLButtonElement>();
  for (const c of [...COLUMNS, { key: 'spark', label: 'CPU 1 h' } as Column]) {
    const th = h('th', { scope: 'col', ...(c.num ? { class: 'num' } : {}) });
    if (c.key === 'spark') th.textContent = c.label;
    else {
      const b = h('button', { type: 'button', class: 'sort' }, c.label);
      b.addEventListener('click', () => {
        sortDir = sortKey === c.key ? -sortDir : c.num ? -1 : 1;
        sortKey = c.key;
        dirtyOrder = true;
        persist();
        layout();
      });
      sortButtons.set(c.key, b);
      th.appendChild(b);
    }
    headRow.appendChild(th);
  }

  function persist(): void {
    sessionStorage.setItem('fleet-view', JSON.stringify({ sort: sortKey, dir: sortDir, q: filter.value, state: stateSel.value }));
  }

  function makeRow(a: Agent): Row {
    const link = h('a', { href: `#/host/${encodeURIComponent(a.id)}` });
    const stateBadge = h('span', { class: 'badge' });
    // Put in the cell only while it applies: the cell's text stays the state alone otherwise.
    const lostBadge = h('span', { class: 'badge', 'data-lost': '' }, 'samples lost');
    const cells = COLUMNS.map((c) => h('td', c.num ? { class: 'num' } : null));
    cells[0]!.appendChild(link);
    cells[1]!.appendChild(stateBadge);
    const meters = new Map<string, Meter>();
    COLUMNS.forEach((c, i) => c.gauge && meters.set(c.key, meterIn(cells[i]!)));
    const version = document.createTextNode('');
    const versionBadge = h('span', { class: 'badge', 'data-version': '' });
    cells[VERSION_COL]!.appendChild(version);
    const spark = sparkCanvas();
    sparks.watch(spark);
    const tr = h('tr', { 'data-id': a.id }, cells, h('td', { class: 'spark-cell' }, spark));
    const r = { tr, cells, link, spark, stateBadge, lostBadge, meters, version, versionBadge };
    fill(r, a);
    return r;
  }

  function fill(r: Row, a: Agent): void {
    COLUMNS.forEach((c, i) => {
      if (i === 0) setText(r.link, a.name);
      else if (i === 1) {
        const s = stateOf(a);
        setText(r.stateBadge, s);
        r.stateBadge.dataset.state = s;
        const lost = a.samplesLost;
        if (!lost) r.lostBadge.remove();
        else {
          const t = `${samplesLost(lost.count)}: the host's page says why`;
          if (r.lostBadge.title !== t) r.lostBadge.title = t;
          if (r.lostBadge.parentNode !== r.cells[1]) r.cells[1]!.appendChild(r.lostBadge);
        }
      } else if (c.gauge) return fillGauge(r, a, c);
      else if (i === VERSION_COL) fillVersion(r, a);
      else setText(r.cells[i]!, c.text(a));
      if (c.title) {
        const t = c.title(a);
        if (r.cells[i]!.title !== t) r.cells[i]!.title = t;
      }
    });
    r.cells[ALERTS_COL]!.dataset.alerting = store.activeAlerts(a.id).length ? 'yes' : 'no';
    // When the manager last heard from the agent: lets a benchmark time report -> row.
    r.tr.dataset.seen = a.lastSeen ?? '';
    sparks.draw(r.spark, store.sparks.get(a.id), accent());
  }

  function fillGauge(r: Row, a: Agent, c: Column): void {
    const g = gaugeOf(a, c.gauge!);
    const rule = limitText(g.limit, store.limitsOf(a.id), c.gauge!);
    const own = c.title?.(a);
    setMeter(r.meters.get(c.key)!, g.v, g.limit, own && rule ? `${own}; ${rule}` : own || rule);
  }

  /** New rules or the manager's version: only what they colour or name (a whole fill redraws 1,000 sparklines). */
  function fillRules(r: Row, a: Agent): void {
    for (const c of COLUMNS) if (c.gauge) fillGauge(r, a, c);
    fillVersion(r, a);
    const alerts = COLUMNS[ALERTS_COL]!;
    setText(r.cells[ALERTS_COL]!, alerts.text(a));
    const t = alerts.title!(a);
    if (r.cells[ALERTS_COL]!.title !== t) r.cells[ALERTS_COL]!.title = t;
  }

  function fillVersion(r: Row, a: Agent): void {
    if (r.version.data !== (a.version || 'unknown')) r.version.data = a.version || 'unknown';
    const mark = versionMark(a.version, store.managerVersion);
    const manager = store.managerVersion;
    const badge = mark === 'older' ? 'older' : mark === 'unknown' && manager ? '?' : '';
    const cell = r.cells[VERSION_COL]!;
    cell.dataset.version = manager ? mark : '';
    if (!badge) {
      r.versionBadge.remove();
      if (cell.title) cell.title = '';
      return;
    }
    setText(r.versionBadge, badge);
    r.versionBadge.dataset.version = mark;
    const t = mark === 'older' ? `older than the manager (${manager}): upgrade it with \`manager upgrade\`` : `the agent's version "${a.version}" is not one the dashboard can compare with the manager's (${manager})`;
    if (cell.title !== t) cell.title = t;
    if (r.versionBadge.parentNode !== cell) cell.appendChild(r.versionBadge);
  }

  function visible(a: Agent): boolean {
    if (a.trust !== 'accepted') return false;
    const q = filter.value.trim().toLowerCase();
    if (q && !a.name.toLowerCase().includes(q) && !a.hostname.toLowerCase().includes(q) && !a.address.includes(q)) return false;
    return !stateSel.value || stateOf(a) === stateSel.value;
  }

  function updateCounts(): void {
    let online = 0, offline = 0, alerting = 0, pending = 0, older = 0;
    for (const a of store.agents.values()) {
      if (a.trust === 'pending') {
        pending++;
        continue;
      }
      if (a.online) online++;
      else offline++;
      if (store.activeAlerts(a.id).length) alerting++;
      if (versionMark(a.version, store.managerVersion) === 'older') older++;
    }
    replace(counts,
      h('span', { class: 'count', 'data-kind': 'online' }, h('b', null, online), ' online'),
      h('span', { class: 'count', 'data-kind': 'offline' }, h('b', null, offline), ' offline'),
      h('span', { class: 'count', 'data-kind': 'alerting' }, h('b', null, alerting), ' alerting'),
      h('a', { class: 'count', 'data-kind': 'pending', href: '#/pending' }, h('b', null, pending), ' pending'),
      // Said on top too: at 390 px the Version column is off to the right of the table.
      older ? h('span', { class: 'count', 'data-kind': 'older', title: `older than the manager (${store.managerVersion}): upgrade them with \`manager upgrade\`` }, h('b', null, older), ' older') : null,
    );
  }

  function layout(): void {
    dirtyOrder = false;
    const col = COLUMNS.find((c) => c.key === sortKey) ?? COLUMNS[0]!;
    for (const [k, b] of sortButtons) {
      const th = b.parentElement!;
      if (k === sortKey) th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    const list = [...store.agents.values()].filter(visible);
    list.sort((a, b) => {
      const x = col.value(a);
      const y = col.value(b);
      return (x < y ? -1 : x > y ? 1 : a.name.localeCompare(b.name)) * sortDir;
    });
    const next = list.map((a) => a.id);
    for (const [id, r] of rows) if (!store.agents.has(id)) {
      r.tr.remove();
      sparks.forget(r.spark);
      rows.delete(id);
    }
    empty.textContent = list.length ? '' : store.agents.size ? 'No agent matches the filter.' : 'No agents yet: start one with the command the manager printed.';
    if (next.length === order.length && next.every((id, i) => id === order[i])) return;
    order = next;
    cancelRest();
    // The first screenful now (painted alone: a small table lays out fast), the rest in one go once it is.
    let i = 0;
    const chunk = (n: number) => {
      const frag = document.createDocumentFragment();
      for (const end = Math.min(order.length, i + n); i < end; i++) {
        const id = order[i]!;
        let r = rows.get(id);
        if (!r) rows.set(id, (r = makeRow(store.agents.get(id)!)));
        frag.appendChild(r.tr);
      }
      tbody.appendChild(frag);
      if (i < order.length) cancelRest = afterPaint(() => chunk(order.length));
      else {
        // Rows filtered out are detached, not destroyed: clearing the filter is instant.
        const keep = new Set(order);
        for (const [id, r] of rows) if (!keep.has(id)) r.tr.remove();
      }
    };
    chunk(FIRST_ROWS);
  }

  filter.addEventListener('input', () => {
    persist();
    layout();
  });
  stateSel.addEventListener('change', () => {
    persist();
    layout();
  });

  // Live changes patch rows at once; the order is redone at most once a second (rows do not jump
  // under the pointer with every report).
  const changed = new Set<string>();
  let patchTimer = 0;
  const patch = () => {
    patchTimer = 0;
    for (const id of changed) {
      const a = store.agents.get(id);
      const r = rows.get(id);
      if (a && r) fill(r, a);
      else dirtyOrder = true;
    }
    changed.clear();
    updateCounts();
  };
  const refill = () => {
    for (const [id, r] of rows) {
      const a = store.agents.get(id);
      if (a) fill(r, a);
    }
  };
  const unsub = store.subscribe({
    rules: () => {
      for (const [id, r] of rows) {
        const a = store.agents.get(id);
        if (a) fillRules(r, a);
      }
    },
    rollout: () => drawRollout(rollout, store.rollout),
    sparks: () => {
      for (const [id, r] of rows) sparks.draw(r.spark, store.sparks.get(id), accent());
    },
    agents: (ids) => {
      for (const id of ids) changed.add(id);
      if (sortKey !== 'name') dirtyOrder = true;
      patchTimer ||= window.setTimeout(patch, 100);
    },
    alert: (a) => {
      changed.add(a.agentId);
      patchTimer ||= window.setTimeout(patch, 100);
    },
    reset: () => {
      refill();
      dirtyOrder = true;
      updateCounts();
      layout();
    },
  });
  const tick = window.setInterval(() => {
    if (document.hidden) return;
    if (dirtyOrder) layout();
    for (const [id, r] of rows) {
      const a = store.agents.get(id);
      if (a && r.tr.isConnected) setText(r.cells[SEEN_COL]!, ago(a.lastSeen));
    }
  }, 1000);
  const unTheme = onThemeChange(() => {
    accentNow = '';
    for (const [id, r] of rows) sparks.draw(r.spark, store.sparks.get(id), accent());
  });

  const rollout = h('section', { class: 'rollout', 'aria-labelledby': 'rollout-head' });
  drawRollout(rollout, store.rollout);
  replace(main,
    h('div', { class: 'page-head' }, h('h1', null, 'Fleet'), counts),
    rollout,
    h('div', { class: 'filters', role: 'search' },
      h('span', { class: 'field' }, h('label', { for: 'fleet-filter' }, 'Filter by name'), filter),
      h('span', { class: 'field' }, h('label', { for: 'fleet-state' }, 'State'), stateSel)),
    h('div', { class: 'table-wrap' }, table),
    empty,
  );
  updateCounts();
  layout();
  return () => {
    unsub();
    unTheme();
    sparks.stop();
    clearInterval(tick);
    clearTimeout(patchTimer);
    cancelRest();
  };
}

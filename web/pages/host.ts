// One host: who it is, its charts for a range (live, 1 h ... 1 y), mounts and interfaces, its
// alerts, and the commands. Results and errors (with their codes) appear on the page.

import type uPlot from 'uplot';
import { agentPath, api, ApiError, errorOf } from '../api.ts';
import { chartColumns, makeChart, type ChartSpec } from '../charts.ts';
import { typedConfirm } from '../confirm.ts';
import { processPanel } from '../process-table.ts';
import { h, replace, type Child } from '../dom.ts';
import { ago, bytes, duration, pct, rate, samplesLost, time } from '../format.ts';
import { FIELDS, ifKey, loadHistory, mountKey, type Band, type HistoryData } from '../history.ts';
import type { PageContext } from '../page.ts';
import { store } from '../store.ts';
import { versionFact } from '../version.ts';
import { levelOf, limitOf, limitText } from '../rule-limits.ts';
import { containersWidget } from './containers.ts';
import { containerCharts } from '../container-charts.ts';
import { onThemeChange } from '../theme.ts';
import { failedServices } from '../services.ts';
import { topProcesses } from './top-table.ts';
import { alertValue } from '../alert-value.ts';
import { stateOf, worstMount, type Agent, type Alert, type CommandEvent, type AgentLimits, type Mount } from '../types.ts';

const RANGES = [
  { key: 'live', label: 'Live', ms: 10 * 60_000 },
  { key: '1h', label: '1 h', ms: 3600_000 },
  { key: '24h', label: '24 h', ms: 86400_000 },
  { key: '7d', label: '7 d', ms: 7 * 86400_000 },
  { key: '30d', label: '30 d', ms: 30 * 86400_000 },
  { key: '1y', label: '1 y', ms: 365 * 86400_000 },
] as const;

const COLORS = ['--c1', '--c2', '--c3', '--c4', '--c5', '--c6'];
/** Interfaces charted, the busiest first; a host with dozens of container veths gets a note, not dozens of charts. */
const MAX_IF_CHARTS = 6;
/** Out is dashed: where it equals in (loopback), both lines stay visible. */
const OUT_DASH = [6, 4];

/**
 * The charts for what the history has: disk used % with one series per mount (one shared 0-100
 * scale reads best), and network in/out per interface as small multiples (rates of different
 * interfaces differ by orders of magnitude). An agent without per-mount series keeps the root chart.
 */
function chartSpecs(d: HistoryData): { specs: ChartSpec[]; hiddenIfs: number } {
  const disk: ChartSpec = d.mounts.length
    ? { title: 'Disk used per mount', unit: 'pct', series: d.mounts.map((m, i) => ({ label: m, field: mountKey(m), color: COLORS[(i + 2) % COLORS.length]! })) }
    : { title: 'Disk (root)', unit: 'pct', series: [{ label: 'Disk', field: 'diskPercent', color: '--c3' }] };
  const traffic = (n: string) => sum(d.detail[ifKey(n, 'rxRate')]) + sum(d.detail[ifKey(n, 'txRate')]);
  // An interface with no traffic over the range (an unused ifb0, a down link) gets no chart.
  const ifs = d.interfaces.filter((n) => traffic(n) > 0).sort((a, b) => traffic(b) - traffic(a) || a.localeCompare(b));
  const shown = ifs.slice(0, MAX_IF_CHARTS).sort((a, b) => a.localeCompare(b));
  return {
    specs: [
      { title: 'CPU', unit: 'pct', series: [{ label: 'CPU', field: 'cpuPercent', color: '--c1' }] },
      { title: 'Memory', unit: 'pct', series: [{ label: 'Memory', field: 'memPercent', color: '--c2' }] },
      disk,
      { title: shown.length ? 'Network, all but loopback' : 'Network', unit: 'rate', series: [{ label: 'in', field: 'netRxRate', color: '--c4' }, { label: 'out', field: 'netTxRate', color: '--c5', dash: OUT_DASH }] },
      ...shown.map((n): ChartSpec => ({
        title: `Network ${n}`, unit: 'rate', spanGaps: true,
        series: [{ label: 'in', field: ifKey(n, 'rxRate'), color: '--c4' }, { label: 'out', field: ifKey(n, 'txRate'), color: '--c5', dash: OUT_DASH }],
      })),
      { title: 'Processes', unit: 'count', series: [{ label: 'Processes', field: 'processCount', color: '--c6' }] },
    ],
    hiddenIfs: d.interfaces.length - shown.length,
  };
}

function diskFact(a: Agent): string {
  const w = worstMount(a);
  return w ? `${pct(w.percent)} (fullest: ${w.mount})` : '-';
}

/** The manager's reason codes for lost samples (common/manager), in words. */
const LOST_REASONS: Record<string, string> = {
  'spool-full': "the agent's spool was full (the manager was away longer than it can keep)",
  'memory-full': 'the agent had no disk to keep them and its memory was full',
  'unreadable': "a line of the agent's spool could not be read back",
  'pending-full': "an older agent sent more than the manager's history could hold",
  'too-old': 'they were older than every history tier',
};

/** Samples that never reached the history: a gap in the charts a reader must not take for a quiet host. */
function lostNotice(lost: NonNullable<Agent['samplesLost']>): Child[] {
  const why = LOST_REASONS[lost.reason] ?? `reason "${lost.reason}"`;
  return [
    h('strong', null, samplesLost(lost.count)),
    `: ${lost.count === 1 ? 'it is' : 'they are'} not in this host's history. Latest: ${why}, ${time(lost.at)}.`,
  ];
}

function sum(b: Band | undefined): number {
  let n = 0;
  for (const v of b?.avg ?? []) if (typeof v === 'number') n += v;
  return n;
}

type Json = Record<string, any>;

export function hostPage(main: HTMLElement, ctx: PageContext, id: string): () => void {
  const admin = ctx.me.role === 'admin';
  let agent = store.agents.get(id) ?? [...store.agents.values()].find((a) => a.name === id);
  if (!agent) {
    replace(main, h('h1', null, 'Unknown host'), h('p', { class: 'error', role: 'alert' }, `No agent has the id or name "${id}" [AGENT_NOT_FOUND]. `, h('a', { href: '#/' }, 'Back to the fleet')));
    return () => {};
  }
  const agentId = agent.id;
  let range: (typeof RANGES)[number] = RANGES[0];
  let charts: uPlot[] = [];
  let specs: ChartSpec[] = [];
  let data: HistoryData | undefined;
  let loadSeq = 0;

  const title = h('h1');
  const facts = h('dl', { class: 'facts' });
  // Present from the start (empty): a live region announces what is put in it later.
  const lost = h('div', { class: 'notice', role: 'status', 'data-notice': 'samples-lost' });
  const rangeBar = h('div', { class: 'ranges', role: 'group', 'aria-label': 'Time range' });
  const chartNote = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const chartBox = h('div', { class: 'charts' });
  const procsAt = processPanel(agentId);
  const result = h('section', { class: 'result', 'aria-live': 'polite', 'aria-labelledby': 'result-title' });
  const confirmBox = h('div');
  const mounts = h('div', { class: 'table-wrap' });
  const ifaces = h('div', { class: 'table-wrap' });
  const alertsBox = h('div', { class: 'table-wrap' });
  const services = failedServices(agentId);
  const containers = containersWidget(agentId);
  const containerHistory = containerCharts(agentId, () => chartWidth());

  // ---- header and facts -----------------------------------------------------------------------
  function renderFacts(a: Agent): void {
    const s = stateOf(a);
    replace(title, a.name, ' ', h('span', { class: 'badge', 'data-state': s }, s));
    const item = (k: string, v: string) => [h('dt', null, k), h('dd', null, v)];
    replace(facts,
      item('Host name', a.hostname || '-'), item('Address', a.address || '-'), item('Platform', a.platform || '-'),
      item('Agent version', versionFact(a.version, store.managerVersion)), item('Last seen', ago(a.lastSeen)), item('Uptime', duration(a.metrics?.uptimeSeconds)),
      item('CPU', pct(a.metrics?.cpuPercent)), item('Memory', pct(a.metrics?.memPercent)), item('Disk', diskFact(a)),
      item('Processes', a.metrics?.processCount == null ? '-' : String(a.metrics.processCount)), item('Id', a.id), item('Key (SHA-256)', a.fingerprint || '-'),
    );
  }

  let lostShown = '';
  function renderLost(a: Agent): void {
    const key = JSON.stringify(a.samplesLost ?? null);
    if (key === lostShown) return;
    lostShown = key;
    replace(lost, a.samplesLost ? lostNotice(a.samplesLost) : null);
  }

  // ---- charts ---------------------------------------------------------------------------------
  function chartWidth(): number {
    return Math.max(280, Math.min(chartBox.clientWidth || main.clientWidth - 32, 1400) - 4);
  }

  function drawCharts(): void {
    for (const c of charts) c.destroy();
    charts = [];
    replace(chartBox);
    if (!data) return;
    const w = chartWidth();
    const c = chartSpecs(data);
    specs = c.specs;
    for (const spec of specs) {
      // data-points: the values the chart was given, for a test to tell a drawn chart from an empty one.
      const el = h('figure', { class: 'chart', 'data-chart': spec.title, 'data-points': chartColumns(spec, data).reduce((n, c) => n + c.filter((v) => v !== null).length, 0) });
      chartBox.appendChild(el);
      // A point on the CPU or memory chart opens the processes of that minute below the charts.
      const pick = spec.title === 'CPU' || spec.title === 'Memory' ? (at: number) => procsAt.show(at) : undefined;
      if (pick) el.setAttribute('aria-description', 'Click a point to see the processes of that minute below the charts (or give a time in "Processes at").');
      charts.push(makeChart(el, spec, data, w, pick));
    }
    if (c.hiddenIfs) chartBox.appendChild(h('p', { class: 'muted', 'data-note': 'interfaces' }, `${c.hiddenIfs} interface${c.hiddenIfs > 1 ? 's' : ''} without traffic in this range, or quieter than the ${MAX_IF_CHARTS} charted, not charted; the table below lists every interface.`));
  }

  async function loadRange(): Promise<void> {
    const seq = ++loadSeq;
    for (const b of rangeBar.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.range === range.key));
    const to = Date.now();
    chartNote.textContent = 'Loading...';
    void containerHistory.load(to - range.ms, to);
    try {
      const d = await loadHistory(agentId, to - range.ms, to, range.key === 'live' ? 600 : 500);
      if (seq !== loadSeq) return;
      data = d;
      chartNote.textContent = `${d.t.length} points${d.tier ? `, ${d.tier}` : ''}${range.key === 'live' ? ', updating as reports arrive' : ''}. Drag across a chart to zoom, double-click to reset.`;
      drawCharts();
    } catch (err) {
      const e = err as ApiError;
      chartNote.textContent = `Cannot load the history: ${e.message} [${e.code}]`;
    }
  }

  /**
   * Live: each report adds a point at the right, the window slides. The stream carries the
   * headline values and the mounts; interface rates come with the 5 s poll (setLiveInterfaces),
   * so their new points start empty.
   */
  function addLivePoint(a: Agent): void {
    if (range.key !== 'live' || !data || !a.metrics) return;
    const at = a.lastSeen ? Date.parse(a.lastSeen) / 1000 : Date.now() / 1000;
    if (data.t.length && at <= data.t[data.t.length - 1]!) return;
    data.t.push(at);
    const push = (b: Band, v: unknown) => {
      const x = typeof v === 'number' ? v : null;
      b.avg.push(x);
      b.min?.push(x);
      b.max?.push(x);
    };
    for (const f of FIELDS) push(data.fields[f], a.metrics[f]);
    const byMount = new Map((a.mounts ?? []).map((m) => [m.mount, m.percent]));
    for (const m of data.mounts) push(data.detail[mountKey(m)]!, byMount.get(m));
    for (const n of data.interfaces) for (const f of ['rxRate', 'txRate'] as const) push(data.detail[ifKey(n, f)]!, null);
    const cut = Date.now() / 1000 - range.ms / 1000;
    const bands = [...Object.values(data.fields), ...Object.values(data.detail)];
    while (data.t.length && data.t[0]! < cut) {
      data.t.shift();
      for (const b of bands) {
        b.avg.shift();
        b.min?.shift();
        b.max?.shift();
      }
    }
    redraw();
  }

  function redraw(): void {
    if (!data) return;
    if (!charts.length || charts.length !== specs.length) return drawCharts();
    specs.forEach((spec, i) => charts[i]!.setData([data!.t, ...chartColumns(spec, data!)] as uPlot.AlignedData));
  }

  /** The poll's interface rates go on the live point of the same report. */
  function setLiveInterfaces(a: Agent): void {
    if (range.key !== 'live' || !data || !a.lastSeen || !a.interfaces) return;
    const i = data.t.lastIndexOf(Date.parse(a.lastSeen) / 1000);
    if (i < 0) return;
    let changed = false;
    for (const n of a.interfaces) {
      for (const f of ['rxRate', 'txRate'] as const) {
        const b = data.detail[ifKey(n.name, f)];
        if (!b || b.avg[i] !== null) continue;
        b.avg[i] = n[f];
        if (b.min) b.min[i] = n[f];
        if (b.max) b.max[i] = n[f];
        changed = true;
      }
    }
    if (changed) redraw();
  }

  for (const r of RANGES) {
    rangeBar.appendChild(h('button', { type: 'button', class: 'seg', 'data-range': r.key, 'aria-pressed': 'false', onclick: () => {
      range = r;
      void loadRange();
    } }, r.label));
  }

  // ---- tables ---------------------------------------------------------------------------------
  /** From the record's mounts (every report carries them), so a viewer sees them too. */
  let mountsShown = '';
  function renderMounts(list: Mount[] | undefined): void {
    const limits = store.limitsOf(agentId);
    const key = JSON.stringify([list ?? [], limits === undefined ? 'loading' : limits?.disk ?? null]);
    if (key === mountsShown) return;
    mountsShown = key;
    replace(mounts, list && list.length ? h('table', { 'data-table': 'mounts' }, h('caption', { class: 'sr-only' }, 'Mounts'),
      h('thead', null, h('tr', null, ['Mount', 'Type', 'Size', 'Used', 'Free', 'Use'].map((c, i) => h('th', { scope: 'col', ...(i >= 2 ? { class: 'num' } : {}) }, c)))),
      h('tbody', null, list.map((d) => h('tr', null, h('td', { class: 'path' }, d.mount), h('td', null, d.type ?? '-'),
        h('td', { class: 'num' }, bytes(d.size)), h('td', { class: 'num' }, bytes(d.used)), h('td', { class: 'num' }, bytes(d.available)),
        h('td', { class: 'num' }, meter(d, limits))))))
      : h('p', { class: 'muted' }, agent?.online ? 'No mounts reported yet (they come with the next report).' : 'No mounts reported.'));
  }

  function renderIfaces(list: Agent['interfaces']): void {
    replace(ifaces, list && list.length ? h('table', null, h('caption', { class: 'sr-only' }, 'Interfaces'),
      h('thead', null, h('tr', null, ['Interface', 'In', 'Out', 'Received', 'Sent'].map((c, i) => h('th', { scope: 'col', ...(i ? { class: 'num' } : {}) }, c)))),
      h('tbody', null, list.map((n) => h('tr', null, h('td', null, n.name), h('td', { class: 'num' }, rate(n.rxRate)), h('td', { class: 'num' }, rate(n.txRate)),
        h('td', { class: 'num' }, bytes(n.rxBytes)), h('td', { class: 'num' }, bytes(n.txBytes)))))) : h('p', { class: 'muted' }, 'No interfaces reported yet.'));
  }

  function renderAlerts(): void {
    const list = store.alerts.filter((a) => a.agentId === agentId).slice(-200).reverse();
    replace(alertsBox, list.length ? alertTable(list) : h('p', { class: 'muted' }, 'No alerts for this host.'));
  }

  // ---- commands -------------------------------------------------------------------------------
  function show(titleText: string, ...body: (Node | string)[]): void {
    replace(result, h('h3', { id: 'result-title' }, titleText), ...body);
  }

  function showError(what: string, err: unknown): void {
    const e = err instanceof ApiError ? err : new ApiError('INTERNAL', String((err as Error)?.message ?? err), 0);
    show(`${what} failed`, h('p', { class: 'error', role: 'alert' }, h('code', null, e.code), ' ', e.message));
  }

  async function run(what: string, cmd: string, args: Json = {}): Promise<Json | undefined> {
    show(`${what}...`, h('p', { class: 'muted' }, 'Asking the agent...'));
    try {
      return await api<Json>(`${agentPath(agentId)}/${cmd}`, { method: 'POST', body: args });
    } catch (err) {
      showError(what, err);
      return undefined;
    }
  }

  async function status(): Promise<void> {
    const r = await run('Status', 'status');
    if (!r) return;
    if (Array.isArray(r.interfaces)) renderIfaces(r.interfaces);
    const m = r.metrics ?? {};
    const kv = (k: string, v: string) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v));
    show('Status', h('table', { class: 'kv' }, h('tbody', null,
      kv('Host name', String(r.hostname ?? '-')), kv('System', [r.os?.distro, r.os?.release, r.release].filter(Boolean).join(' ') || String(r.platform ?? '-')),
      kv('Kernel', String(r.os?.kernel ?? r.release ?? '-')), kv('CPU', r.cpu ? `${r.cpu.model} (${r.cpu.cores} cores)` : '-'),
      kv('Load', Array.isArray(r.cpu?.loadavg) ? r.cpu.loadavg.map((x: number) => x.toFixed(2)).join(' ') : '-'),
      kv('CPU use', pct(m.cpuPercent)), kv('Memory', `${pct(m.memPercent)} of ${bytes(r.memory?.totalBytes)}`),
      kv('Swap', r.memory?.swapTotalBytes ? `${bytes(r.memory.swapUsedBytes)} of ${bytes(r.memory.swapTotalBytes)}` : '-'),
      kv('Uptime', duration(m.uptimeSeconds)), kv('Processes', m.processCount == null ? '-' : String(m.processCount)),
      kv('Booted', r.bootTime ? time(new Date(r.bootTime).toISOString()) : '-'),
    )), h('p', { class: 'muted small' }, 'The interfaces below are updated too.'));
  }

  async function procs(): Promise<void> {
    const r = await run('Processes', 'procs');
    if (r) show('Processes', h('p', { class: 'big', 'data-result': 'procs' }, r.processCount == null ? `unavailable: ${r.reason ?? 'unknown reason'}` : `${r.processCount} processes`));
  }

  const linesInput = h('input', { id: 'log-lines', type: 'number', min: '1', max: '10000', value: '50', inputmode: 'numeric' });
  async function logs(): Promise<void> {
    const n = Number(linesInput.value);
    const r = await run('Logs', 'logs', { lines: n });
    if (!r) return;
    const pre = h('pre', { class: 'logs', tabindex: '0', 'data-result': 'logs' });
    pre.textContent = (r.lines as string[]).join('\n');
    show(`Logs: ${r.source}${r.truncated ? ' (truncated)' : ''}, ${(r.lines as string[]).length} lines`, pre);
  }

  const pathInput = h('input', { id: 'download-path', placeholder: '/var/log/syslog', spellcheck: 'false' });
  let awaitingSha: ((e: CommandEvent) => void) | undefined;
  async function download(): Promise<void> {
    const path = pathInput.value.trim();
    if (!path) return showError('Download', new ApiError('BAD_ARGS', 'give the path of a file on the host', 0));
    const name = path.split(/[\\/]/).pop() || 'download';
    const progress = h('progress', { max: '1', value: '0' });
    const line = h('p', { class: 'muted' }, 'Starting...');
    show(`Download ${path}`, progress, line);
    // The agent's sha256 arrives with the recorded command (the HTTP trailer is out of the page's reach).
    const agentSha = new Promise<CommandEvent>((resolve) => (awaitingSha = (e) => {
      if (e.cmd === 'fetch' && e.agent?.id === agentId && e.args?.path === path && e.by.startsWith(`web ${ctx.me.user} `)) resolve(e);
    }));
    try {
      const res = await fetch(`${agentPath(agentId)}/fetch?path=${encodeURIComponent(path)}`, { credentials: 'same-origin' });
      if (!res.ok) throw await errorOf(res);
      const size = Number(res.headers.get('x-file-size') ?? 0);
      const reader = res.body!.getReader();
      const parts: Uint8Array[] = [];
      let got = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        got += value.length;
        progress.value = size ? got / size : 1;
        line.textContent = `${bytes(got)} of ${bytes(size)}`;
      }
      const blob = new Blob(parts as BlobPart[]);
      const sha = hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
      const ev = await Promise.race([agentSha, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]);
      if (ev && !ev.ok) throw new ApiError(ev.error?.code ?? 'TRANSFER_ABORTED', ev.error?.message ?? 'the transfer failed', 0);
      if (got !== size) throw new ApiError('TRANSFER_ABORTED', `${got} of ${size} bytes arrived`, 0);
      if (ev?.sha256 && ev.sha256 !== sha) throw new ApiError('FILE_CORRUPT', `sha256 of what arrived (${sha}) differs from the agent's (${ev.sha256})`, 0);
      const a = h('a', { href: URL.createObjectURL(blob), download: name }, `Save ${name} again`);
      show(`Downloaded ${path}`,
        h('p', null, `${bytes(got)} (${got} bytes), saved as ${name}`),
        h('p', null, 'sha256 ', h('code', { 'data-result': 'sha256' }, sha), ev?.sha256 ? ' (the same as the agent\'s)' : ' (the agent\'s not confirmed yet)'), a);
      a.click();
    } catch (err) {
      showError(`Download ${path}`, err);
    } finally {
      awaitingSha = undefined;
    }
  }

  function restart(): void {
    replace(confirmBox, typedConfirm({
      action: 'Restart', name: agent!.name,
      explain: `Restart the host ${agent!.name} now? Its agent must run with --allow-restart; it shows as restarting until it is back.`,
      cancel: () => replace(confirmBox),
      run: async () => {
        replace(confirmBox);
        const r = await run('Restart', 'restart');
        if (r) show('Restart', h('p', null, `Restart acknowledged by ${agent!.name}${r.command ? ` (${r.command})` : ''}.`));
      },
    }));
  }

  function revoke(): void {
    replace(confirmBox, typedConfirm({
      action: 'Revoke', name: agent!.name,
      explain: `Revoke ${agent!.name}? It is disconnected and its key is refused from now on.`,
      cancel: () => replace(confirmBox),
      run: async () => {
        replace(confirmBox);
        const r = await run('Revoke', 'revoke');
        if (r) show('Revoked', h('p', null, `${agent!.name} is revoked: its key ${r.fingerprint} is refused from now on.`));
      },
    }));
  }

  async function accept(): Promise<void> {
    const r = await run('Accept', 'accept');
    if (r) show('Accepted', h('p', null, `${agent!.name} is accepted.`));
  }

  const btn = (label: string, fn: () => void, extra: Record<string, string> = {}) =>
    h('button', { type: 'button', onclick: fn, ...(admin ? {} : { disabled: true, title: 'viewers run nothing' }), ...extra }, label);
  const actions = h('div', { class: 'actions' });
  function renderActions(a: Agent): void {
    replace(actions,
      btn('Status', () => void status()), btn('Processes', () => void procs()),
      h('span', { class: 'field' }, h('label', { for: 'log-lines' }, 'Lines'), linesInput), btn('Logs', () => void logs()),
      h('span', { class: 'field' }, h('label', { for: 'download-path' }, 'Path'), pathInput), btn('Download', () => void download()),
      btn('Restart', restart, { class: 'danger' }),
      a.trust === 'pending' ? btn('Accept', () => void accept()) : btn('Revoke', revoke, { class: 'danger' }),
      admin ? null : h('p', { class: 'muted small' }, `You are a viewer: you see everything and run nothing.`),
    );
  }
  pathInput.addEventListener('keydown', (e) => e.key === 'Enter' && admin && void download());

  // ---- live -----------------------------------------------------------------------------------
  let factsTimer = 0;
  const unsub = store.subscribe({
    agents: (ids) => {
      if (!ids.includes(agentId)) return;
      const a = store.agents.get(agentId);
      if (!a) {
        // Revoked (from here or elsewhere): no commands any more; a result shown stays.
        replace(actions, h('p', { class: 'muted' }, 'This agent was revoked: it is disconnected and its key is refused.'));
        replace(confirmBox);
        return;
      }
      const trustChanged = a.trust !== agent!.trust;
      agent = a;
      renderFacts(a);
      renderLost(a);
      renderMounts(a.mounts);
      if (trustChanged) renderActions(a);
      addLivePoint(a);
    },
    alert: (al: Alert) => al.agentId === agentId && renderAlerts(),
    rules: () => agent && renderMounts(agent.mounts),
    command: (e) => awaitingSha?.(e),
    reset: () => {
      const a = store.agents.get(agentId);
      if (a) {
        renderFacts((agent = a));
        renderLost(a);
        renderMounts(a.mounts);
      }
      renderAlerts();
    },
  });
  // The event stream carries each report's headline values; the interface table is asked for
  // again every 5 s while the page is in view (one small request).
  factsTimer = window.setInterval(() => {
    if (document.hidden || !agent) return;
    renderFacts(agent);
    void api<Agent>(agentPath(agentId)).then((a) => {
      renderIfaces(a.interfaces);
      setLiveInterfaces(a);
    }).catch(() => {});
  }, 5000);
  const unTheme = onThemeChange(() => {
    drawCharts();
    containerHistory.draw();
  });
  let resizeTimer = 0;
  const onResize = () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => {
      const w = chartWidth();
      for (const c of charts) c.setSize({ width: w, height: 180 });
      containerHistory.resize(w);
    }, 100);
  };
  window.addEventListener('resize', onResize);

  const top = topProcesses(agentId);
  const section = (t: string, ...body: Node[]) => h('section', { 'aria-labelledby': `h-${t.replace(/\s/g, '-')}` }, h('h2', { id: `h-${t.replace(/\s/g, '-')}` }, t), ...body);
  replace(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Fleet'), ' / ', agent.name),
    title, lost, facts,
    section('Commands', actions, confirmBox, result),
    section('Charts', rangeBar, chartNote, chartBox, procsAt.el),
    section('Top processes', top.el),
    section('Mounts', mounts),
    section('Interfaces', ifaces),
    section('Failed services', services.box),
    section('Containers', containers.el),
    section('Container history', containerHistory.el),
    section('Alerts', alertsBox),
  );
  void services.load();
  renderFacts(agent);
  renderLost(agent);
  renderActions(agent);
  renderIfaces(agent.interfaces);
  renderMounts(agent.mounts);
  renderAlerts();
  void loadRange();
  if (agent.online) void containers.refresh();
  void api<Agent>(agentPath(agentId)).then((a) => renderIfaces(a.interfaces)).catch(() => {});
  return () => {
    unsub();
    unTheme();
    clearInterval(factsTimer);
    top.stop();
    window.removeEventListener('resize', onResize);
    for (const c of charts) c.destroy();
    containerHistory.destroy();
  };
}

/** A mount's use in the colours of the host's disk rules (as on the fleet page), the rule's lines in its tooltip. */
function meter(d: Mount, limits: AgentLimits | null | undefined): HTMLElement {
  const limit = limitOf(limits?.disk[d.mount]);
  return h('span', { class: 'meter', 'data-level': levelOf(d.percent, limit), title: limitText(limit, limits, 'disk') }, pct(d.percent));
}

function hex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function alertTable(list: Alert[], withHost = false): HTMLTableElement {
  return h('table', { class: 'alerts' }, h('caption', { class: 'sr-only' }, 'Alerts'),
    h('thead', null, h('tr', null, ['Time', 'Type', ...(withHost ? ['Host'] : []), 'Value', 'Threshold', 'Via'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, list.map((a) => alertRow(a, withHost))));
}

export function alertRow(a: Alert, withHost: boolean): HTMLTableRowElement {
  const shown = alertValue(a);
  const series = Object.entries(a.labels ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
  const cause = (a.top ?? []).map((p) => `${p.name} (${p.pid}) ${p.cpuPercent ?? '?'}% CPU ${bytes(p.memBytes)}`).join(', ');
  const extra = [a.severity === 'critical' ? 'critical' : '', series, a.silenced ? 'silenced' : '', cause ? `top: ${cause}` : ''].filter(Boolean).join(' · ');
  return h('tr', { 'data-type': a.type, ...(a.state ? { 'data-state': a.state } : {}) },
    h('td', null, time(a.at)),
    h('td', { class: 'alert-what' }, h('span', { class: 'badge', 'data-alert': a.type }, a.type), extra ? h('span', { class: 'muted small' }, ` ${extra}`) : null),
    withHost ? h('td', { class: 'host' }, h('a', { href: `#/host/${encodeURIComponent(a.agentId)}` }, a.agent)) : null,
    h('td', null, shown.value), h('td', null, shown.threshold), h('td', null, a.via));
}

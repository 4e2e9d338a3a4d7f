// Human-readable output for the CLI and the console (both print the same thing). Every value that
// came from an agent goes through inert() here: a table cell or a line cannot carry a control character.

import { inert } from '../util/inert.ts';

export type Json = Record<string, any>;

export function pct(v: unknown): string {
  return typeof v === 'number' ? `${v.toFixed(1)}%` : '-';
}

export function bytes(v: unknown): string {
  if (typeof v !== 'number') return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let x = v;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${x} B` : `${x.toFixed(1)} ${units[i]}`;
}

export function rate(v: unknown): string {
  return typeof v === 'number' ? `${bytes(Math.round(v))}/s` : '-';
}

export function duration(seconds: unknown): string {
  if (typeof seconds !== 'number') return '-';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export function ago(iso: unknown, now = Date.now()): string {
  if (typeof iso !== 'string') return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 2 ? 'now' : `${duration(s)} ago`;
}

export function table(rows: string[][]): string {
  if (!rows.length) return '';
  rows = rows.map((r) => r.map((c) => inert(c ?? '')));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function agentsTable(agents: Json[]): string {
  if (!agents.length) return 'no agents yet: start one with `agent --manager <this host>`';
  const withLabels = agents.some((a) => a.labels && Object.keys(a.labels).length);
  const rows = [['NAME', 'ADDRESS', 'STATE', 'VERSION', 'CPU', 'MEM', 'DISK', 'NET IN', 'NET OUT', 'UPTIME', 'PROCS', 'LAST SEEN', 'ID', ...(withLabels ? ['LABELS'] : [])]];
  for (const a of agents) {
    const m = a.metrics ?? {};
    rows.push([
      a.name, a.address, a.restarting ? 'restarting' : a.online ? 'online' : 'offline', typeof a.version === 'string' && a.version ? a.version : '-', pct(m.cpuPercent), pct(m.memPercent),
      pct(m.diskPercent), rate(m.netRxRate), rate(m.netTxRate), duration(m.uptimeSeconds),
      m.processCount == null ? '-' : String(m.processCount), ago(a.lastSeen), String(a.id).slice(0, 8),
      ...(withLabels ? [Object.entries(a.labels ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',')] : []),
    ]);
  }
  return table(rows);
}

export function statusText(s: Json): string {
  const m = s.metrics ?? {};
  const lines = [
    `host      ${inert(s.hostname)} (${inert(s.platform)}${s.os?.distro ? `, ${inert(s.os.distro)} ${inert(s.os.release ?? '')}`.trimEnd() : ''}${s.arch ? `, ${inert(s.arch)}` : ''})`,
    `uptime    ${duration(m.uptimeSeconds)}`,
    `cpu       ${pct(m.cpuPercent)}${s.cpu ? `  (${inert(s.cpu.cores)} cores, ${inert(s.cpu.model)})` : ''}`,
    `memory    ${pct(m.memPercent)}${s.memory?.totalBytes ? `  of ${bytes(s.memory.totalBytes)}` : ''}`,
    `disk      ${pct(m.diskPercent)}`,
    `network   in ${bytes(m.netRxBytes)} (${rate(m.netRxRate)})  out ${bytes(m.netTxBytes)} (${rate(m.netTxRate)})`,
    `processes ${inert(m.processCount ?? '-')}`,
  ];
  const d = s.samples;
  if (d && typeof d.taken === 'number') {
    lines.push(`samples   ${d.taken} taken since the agent started, ${inert(d.unacked)} not yet in the manager's history${d.lost ? `, ${inert(d.lost)} lost` : ''}${d.acknowledged ? '' : ' (not acknowledged: a manager older than acknowledged samples)'}`);
  }
  if (Array.isArray(s.disks) && s.disks.length) {
    lines.push('', table([['MOUNT', 'SIZE', 'USED', 'USE%', 'FS'], ...s.disks.map((d: Json) => [d.mount, bytes(d.size), bytes(d.used), `${d.percent}%`, d.fs ?? ''])]));
  }
  if (Array.isArray(s.interfaces) && s.interfaces.length) {
    lines.push('', table([['INTERFACE', 'RX', 'TX', 'RX RATE', 'TX RATE'], ...s.interfaces.map((i: Json) => [i.name, bytes(i.rxBytes), bytes(i.txBytes), rate(i.rxRate), rate(i.txRate)])]));
  }
  const un = { ...(m.unavailable ?? {}), ...(s.unavailable ?? {}) };
  const keys = Object.keys(un);
  if (keys.length) lines.push('', 'unavailable:', ...keys.map((k) => `  ${inert(k)}: ${inert(un[k])}`));
  return lines.join('\n');
}

function labelText(l: unknown): string {
  if (!l || typeof l !== 'object') return '';
  const parts = Object.entries(l as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

/**
 * A rule alert's value in words: a container or service rule's 0/1 is what it means (not "0
 * (threshold 1)"), a process rule's value is how many run; other rules give value and threshold.
 */
function ruleValueText(a: Json): string {
  // a container's resolution with value 0 is the agent's "gone from the list" (removed)
  const l = (a.labels ?? {}) as Record<string, unknown>;
  const resolved = a.state === 'resolved';
  if (l.container !== undefined) return resolved ? (a.value === 0 ? 'container removed' : 'container running and healthy') : 'container not running, unhealthy or restarted';
  if (l.service !== undefined) return resolved ? 'service running' : 'service not running';
  if (l.match !== undefined || l.cmdline !== undefined) return `${a.value} running (${resolved ? 'at least' : 'fewer than'} ${a.threshold})`;
  return `${a.value} (threshold ${a.threshold})`;
}

export function alertLine(a: Json): string {
  const when = typeof a.at === 'string' ? a.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
  const what = a.type === 'CPU_HIGH' ? `CPU high: ${a.value}% (threshold ${a.threshold}%)`
    : a.type === 'CPU_NORMAL' ? `CPU back to normal: ${a.value}%`
    : a.rule && a.rule !== 'agent_down' ? `${a.rule} ${a.state === 'resolved' ? 'resolved' : `firing (${a.severity ?? 'warning'})`}: ${ruleValueText(a)}${labelText(a.labels)}`
    : `${a.type}${a.value != null ? ` ${a.value}` : ''}`;
  return `${inert(when)}  ${inert(a.agent)}  ${inert(a.type)}  ${inert(what)}${alertTopText(a.top)}${a.silenced ? `  [silenced ${inert(a.silenced)}]` : ''}`;
}

/** A table's rows cut to `width` (a terminal's), their last column (a command line) losing its end; the header is left whole. */
export function cutRows(t: string, width?: number): string {
  if (!width || width <= 20) return t;
  return t.split('\n').map((l, i) => (i > 0 && l.length > width ? `${l.slice(0, width - 1)}…` : l)).join('\n');
}

/** `top`: a table like top's; the command line (last column) cut to `width` when printing to a terminal. */
export function topText(r: Json, width?: number): string {
  const rows = [['PID', 'USER', 'NAME', 'CPU%', 'MEM', 'IO/s', 'STATE', 'STARTED', 'COMMAND']];
  for (const p of (r.processes ?? []) as Json[]) {
    rows.push([
      String(p.pid), p.user ?? '-', p.name, p.cpuPercent == null ? '-' : p.cpuPercent.toFixed(1), bytes(p.memBytes), rate(p.ioBytesPerSec),
      p.state ?? '-', typeof p.startedAt === 'number' ? started(p.startedAt, typeof r.at === 'number' ? r.at : Date.now()) : '-', p.command ?? '-',
    ]);
  }
  const lines = cutRows(table(rows), width).split('\n');
  const notes = Object.entries((r.unavailable ?? {}) as Record<string, string>).map(([k, v]) => `${inert(k)}: ${inert(v)}`);
  return [`${r.total ?? '?'} processes`, ...lines, ...notes].join('\n');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A process's start in local time, as ps(1)'s START column: "14:05" on the day of the sample,
 * "Dec05" earlier that year, else the year; short, so the command line keeps room on 80 columns.
 */
export function started(at: number, now: number): string {
  const d = new Date(at);
  const n = new Date(now);
  const p = (x: number) => String(x).padStart(2, '0');
  if (d.getFullYear() !== n.getFullYear()) return String(d.getFullYear());
  if (d.getMonth() !== n.getMonth() || d.getDate() !== n.getDate()) return `${MONTHS[d.getMonth()]}${p(d.getDate())}`;
  return `${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** An alert's cause: "(top: yes 1234 98.0% 1.5 MiB, ...)". */
export function alertTopText(top: unknown): string {
  if (!Array.isArray(top) || !top.length) return '';
  return `  top: ${top.map((p: Json) => `${inert(p.name)}[${inert(p.pid)}] ${pct(p.cpuPercent)} ${bytes(p.memBytes)}`).join(', ')}`;
}

/** `services`: UNIT ACTIVE SUB DESCRIPTION, the failed ones first, then a count line. */
export function servicesText(r: Json, failedOnly: boolean): string {
  const list = (r.services ?? []) as Json[];
  const rows = [['UNIT', 'ACTIVE', 'SUB', 'DESCRIPTION'], ...list.map((s) => [s.name, s.active, s.sub, s.description])];
  const counts = `${r.failedCount} failed of ${r.total} services (${inert(r.source)})${r.omitted ? `; ${r.omitted} more not listed` : ''}`;
  if (!list.length) return failedOnly ? `no failed services; ${counts}` : `no services; ${counts}`;
  const why = list.filter((s) => s.result || s.since).map((s) => inert(`${s.name}: ${failureText(s)}`));
  return [table(rows), ...why, counts].join('\n');
}

/** Why a failed unit failed: "exit-code, status 1, since Sun 2026-12-06 08:40:12 UTC". */
export function failureText(s: Json): string {
  return [s.result, s.exitStatus !== undefined ? `status ${s.exitStatus}` : '', s.since ? `since ${s.since}` : ''].filter(Boolean).join(', ');
}

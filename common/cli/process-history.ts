// `manager history <agent> --processes [--at 14:05 | --since 1h]`: the history of who, a minute's
// top processes by CPU and by memory as two tables (or every minute of a span).

import { HwError } from '../errors.ts';
import { durationMs } from '../util/units.ts';
import { timeArg } from '../api/validate.ts';
import type { ProcessHistory, ProcessHistoryRow, ProcessMinute } from '../api/types.ts';
import type { Client } from './client.ts';
import type { Io } from './io.ts';
import { bytes, cutRows, pct, table } from './format.ts';
import { inert } from '../util/inert.ts';

/** `--at`: HH:MM (today, local time), or an ISO 8601 time, or ms since the epoch. */
export function atTime(v: unknown, now = Date.now()): number {
  const s = String(v).trim();
  const hm = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (hm) {
    const h = Number(hm[1]);
    const m = Number(hm[2]);
    if (h > 23 || m > 59) throw new HwError('BAD_ARGS', `--at ${s}: hours 0-23, minutes 0-59`);
    const d = new Date(now);
    d.setHours(h, m, 0, 0);
    return d.getTime();
  }
  return timeArg(s, '--at (HH:MM today, or an ISO time)');
}

/** `width`: a terminal's, to cut each row's command line as `top` does. */
export async function processHistoryCmd(c: Client, ref: string, o: { at?: unknown; since?: unknown; json?: boolean; width?: number }, io: Io, now = Date.now()): Promise<void> {
  const h = await c.processHistory(ref, o.at !== undefined ? { at: atTime(o.at, now) } : { from: now - durationMs(o.since ?? '10m', '--since'), to: now });
  if (o.json) return io.out(JSON.stringify(h, null, 2));
  io.out(processHistoryText(h, o.width));
}

export function processHistoryText(h: ProcessHistory, width?: number): string {
  const who = inert(h.agent);
  if (!h.minutes.length) {
    return h.asked !== undefined
      ? `no processes kept for ${who} within 15 minutes of ${minute(h.asked)} (the agent keeps them once a minute: --processes-every)`
      : `no processes kept for ${who} from ${minute(h.from ?? 0)} to ${minute(h.to ?? 0)}`;
  }
  const parts = h.minutes.map((m) => minuteText(m, h.commands, width));
  if (h.truncated) parts.unshift(`(the newest ${h.minutes.length} minutes of a longer span)`);
  return parts.join('\n\n');
}

function minuteText(m: ProcessMinute, commands: boolean, width?: number): string {
  return `${minute(m.at)}  by CPU\n${rowsTable(m.byCpu, commands, width)}\n\n${minute(m.at)}  by memory\n${rowsTable(m.byMem, commands, width)}`;
}

function rowsTable(rows: ProcessHistoryRow[], commands: boolean, width?: number): string {
  if (!rows.length) return '(none)';
  const head = ['PID', 'USER', 'CPU', 'MEM', 'NAME', ...(commands ? ['COMMAND'] : [])];
  return cutRows(table([head, ...rows.map((r) => [String(r.pid), r.user ?? '-', pct(r.cpuPercent), bytes(r.memBytes), r.name, ...(commands ? [r.command ?? '-'] : [])])]), width);
}

/** The minute as local time with its date, and the zone offset (what --at HH:MM means). */
export function minute(at: number, seconds = false): string {
  const d = new Date(at);
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'UTC' : `UTC${off > 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}${seconds ? `:${p(d.getSeconds())}` : ''} ${zone}`;
}

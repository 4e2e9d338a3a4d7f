// Parser for `systemctl list-units --type=service --all --output=json`: one JSON array, an object a
// unit, keyed by the table's column names in lower case:
//   [{"unit":"ssh.service","load":"loaded","active":"active","sub":"running","description":"OpenBSD Secure Shell server"}, ...]
// systemctl's table may add columns (the job column while jobs are queued, the status glyph under
// an empty name): keys other than these five are ignored.
import { HwError } from '../errors.ts';
import type { ServiceRow } from '../api/types.ts';

/** A name or a description longer than this is cut: a unit name is at most 256 bytes in systemd. */
export const SERVICE_TEXT_MAX = 256;

const cut = (v: unknown): string => (typeof v === 'string' ? v.slice(0, SERVICE_TEXT_MAX) : '');

/** systemd's active states in which a unit runs (reloading is still running). */
const RUNNING = new Set(['active', 'reloading']);

export function systemdRow(o: Record<string, unknown>): ServiceRow | undefined {
  const name = cut(o.unit);
  if (!name) return undefined;
  const active = cut(o.active);
  return { name, description: cut(o.description), active, sub: cut(o.sub), running: RUNNING.has(active), failed: active === 'failed' };
}

/** The units systemctl listed, in its order. Throws SERVICES_UNAVAILABLE when the text is not its JSON. */
export function parseSystemctlUnits(text: string): ServiceRow[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new HwError('SERVICES_UNAVAILABLE', `systemctl printed something other than its JSON list: ${JSON.stringify(text.trim().slice(0, 80))}`);
  }
  if (!Array.isArray(v)) throw new HwError('SERVICES_UNAVAILABLE', 'systemctl printed JSON that is not a list of units');
  const rows: ServiceRow[] = [];
  for (const o of v) {
    const r = o !== null && typeof o === 'object' && !Array.isArray(o) ? systemdRow(o as Record<string, unknown>) : undefined;
    if (r) rows.push(r);
  }
  if (v.length > 0 && rows.length === 0) throw new HwError('SERVICES_UNAVAILABLE', 'systemctl listed entries without a "unit" field (an unknown output format)');
  return rows;
}

/** Why a failed unit failed, from `systemctl show`: its Result, its main process's exit status, since when. */
export interface FailureDetail {
  result?: string;
  exitStatus?: number;
  since?: string;
}

/**
 * Parser for `systemctl show --property=Id,Result,ExecMainStatus,StateChangeTimestamp <units>`:
 * key=value lines, one block a unit separated by a blank line, the properties in the order the
 * service manager lists them (so read by key, the block named by its Id). An empty value is absent.
 */
export function parseSystemctlShow(text: string): Map<string, FailureDetail> {
  const out = new Map<string, FailureDetail>();
  for (const block of text.split(/\r?\n\s*\r?\n/)) {
    const kv = new Map<string, string>();
    for (const line of block.split(/\r?\n/)) {
      const eq = line.indexOf('=');
      if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1).trim());
    }
    const id = kv.get('Id');
    if (!id) continue;
    const d: FailureDetail = {};
    const result = kv.get('Result');
    if (result) d.result = result.slice(0, 64);
    const status = Number(kv.get('ExecMainStatus'));
    if (kv.get('ExecMainStatus') && Number.isInteger(status)) d.exitStatus = status;
    const since = kv.get('StateChangeTimestamp');
    if (since && since !== 'n/a') d.since = since.slice(0, 64);
    out.set(id, d);
  }
  return out;
}

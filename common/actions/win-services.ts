// Parser for PowerShell's
//   Get-Service | Select-Object Name,DisplayName,Status,StartType | ConvertTo-Json
// An array of objects, or one object when the host has one service. Windows PowerShell 5.1 writes
// the enums as numbers (Status 4, StartType 2); PowerShell 7 with -EnumsAsStrings, or a
// conversion, writes their names: both are read.
import { HwError } from '../errors.ts';
import type { ServiceRow } from '../api/types.ts';
import { SERVICE_TEXT_MAX } from './systemctl.ts';

/** System.ServiceProcess.ServiceControllerStatus */
const STATUS: Record<number, string> = { 1: 'stopped', 2: 'start-pending', 3: 'stop-pending', 4: 'running', 5: 'continue-pending', 6: 'pause-pending', 7: 'paused' };
/** System.ServiceProcess.ServiceStartMode */
const START: Record<number, string> = { 0: 'boot', 1: 'system', 2: 'automatic', 3: 'manual', 4: 'disabled' };

const cut = (v: unknown): string => (typeof v === 'string' ? v.slice(0, SERVICE_TEXT_MAX) : '');

/** An enum as a number or its name: the name in lower case, dashed ("StartPending" -> "start-pending"). */
function enumName(v: unknown, names: Record<number, string>): string {
  if (typeof v === 'number') return names[v] ?? String(v);
  if (typeof v === 'string') return v.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase().slice(0, 32);
  return '';
}

export function parseGetServiceJson(text: string): ServiceRow[] {
  let v: unknown;
  try {
    // PowerShell may start its output with a byte order mark.
    v = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw new HwError('SERVICES_UNAVAILABLE', `PowerShell printed something other than JSON: ${JSON.stringify(text.trim().slice(0, 80))}`);
  }
  const list = Array.isArray(v) ? v : v !== null && typeof v === 'object' ? [v] : [];
  const rows: ServiceRow[] = [];
  for (const o of list) {
    if (o === null || typeof o !== 'object') continue;
    const s = o as Record<string, unknown>;
    const name = cut(s.Name);
    if (!name) continue;
    const active = enumName(s.Status, STATUS);
    const sub = enumName(s.StartType, START);
    const running = active === 'running';
    rows.push({ name, description: cut(s.DisplayName), active, sub, running, failed: !running && sub === 'automatic' });
  }
  if (list.length > 0 && rows.length === 0) throw new HwError('SERVICES_UNAVAILABLE', 'PowerShell listed entries without a "Name" field (an unknown output format)');
  return rows;
}

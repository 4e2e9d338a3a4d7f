// The `services` command: the host's services through its own tool (systemctl on Linux, PowerShell's
// Get-Service on Windows), run with a time limit and an output cap. A host where the tool cannot
// answer (no systemctl, systemd not running, PowerShell missing) is a coded SERVICES_UNAVAILABLE
// with the reason, never an empty list that would read as "no services".
import { HwError } from '../errors.ts';
import type { ServiceRow, ServicesResult } from '../api/types.ts';
import { runProgram, type Runner } from '../util/runner.ts';
import { parseSystemctlShow, parseSystemctlUnits } from './systemctl.ts';
import { parseGetServiceJson } from './win-services.ts';

/** Rows in one answer; past it the failed ones are kept first and the rest counted in `omitted`. */
export const MAX_SERVICE_ROWS = 1000;
/** The service tool: time limit and bytes read (a host with 5,000 units prints about 1 MB). */
const SERVICES_TIMEOUT_MS = 10_000;
const SERVICES_MAX_BYTES = 8 * 1024 * 1024;

export const SYSTEMCTL_ARGS = ['list-units', '--type=service', '--all', '--output=json', '--no-pager'];
export const POWERSHELL_ARGS = ['-NoProfile', '-NonInteractive', '-Command', 'Get-Service | Select-Object Name,DisplayName,Status,StartType | ConvertTo-Json'];

export interface ReadServicesOptions {
  failedOnly?: boolean;
  platform?: NodeJS.Platform;
  runner?: Runner;
  maxRows?: number;
}

/** What systemctl prints where systemd is not PID 1 (containers, WSL1, this kind of build machine). */
const NO_SYSTEMD = /has not been booted with systemd|Failed to connect to bus|Host is down|not been booted/i;

async function run(runner: Runner, file: string, args: string[], what: string): Promise<string> {
  let r;
  try {
    r = await runner(file, args, { timeoutMs: SERVICES_TIMEOUT_MS, maxBytes: SERVICES_MAX_BYTES });
  } catch (err) {
    const why = err instanceof HwError && err.code === 'UNAVAILABLE' ? err.message : `${file}: ${(err as Error).message}`;
    throw new HwError('SERVICES_UNAVAILABLE', `${what}: ${why}`, { cause: err });
  }
  const stderr = r.stderr.trim().split(/\r?\n/).filter(Boolean).join(' ').slice(0, 300);
  if (r.code === null) throw new HwError('SERVICES_UNAVAILABLE', `${what}: ${file} ${r.error ?? 'was killed'}`);
  if (r.code !== 0) {
    if (file === 'systemctl' && NO_SYSTEMD.test(stderr)) throw new HwError('SERVICES_UNAVAILABLE', `systemd is not running on this host (${stderr})`);
    throw new HwError('SERVICES_UNAVAILABLE', `${what}: ${file} exited with code ${r.code}${stderr ? ` (${stderr})` : ''}`);
  }
  return r.stdout;
}

/** Every service of the host, parsed; throws SERVICES_UNAVAILABLE saying why there is no list. */
export async function listServices(o: { platform?: NodeJS.Platform; runner?: Runner; details?: boolean } = {}): Promise<{ source: string; rows: ServiceRow[] }> {
  const runner = o.runner ?? runProgram;
  if ((o.platform ?? process.platform) === 'win32') {
    const out = await run(runner, 'powershell', POWERSHELL_ARGS, 'cannot list the Windows services');
    return { source: 'powershell Get-Service', rows: parseGetServiceJson(out) };
  }
  const out = await run(runner, 'systemctl', SYSTEMCTL_ARGS, 'cannot list the systemd units');
  const rows = parseSystemctlUnits(out);
  if (o.details) await addFailureDetails(runner, rows);
  return { source: 'systemctl', rows };
}

/** Failed units asked about in one `systemctl show` (a host with more has bigger problems). */
const MAX_DETAILED = 50;
export const SHOW_ARGS = ['show', '--property=Id,Result,ExecMainStatus,StateChangeTimestamp', '--no-pager'];

/** Why each failed unit failed; the list stands without it when `systemctl show` cannot say. */
async function addFailureDetails(runner: Runner, rows: ServiceRow[]): Promise<void> {
  const failed = rows.filter((r) => r.failed).slice(0, MAX_DETAILED);
  if (!failed.length) return;
  let details;
  try {
    details = parseSystemctlShow(await run(runner, 'systemctl', [...SHOW_ARGS, '--', ...failed.map((r) => r.name)], 'systemctl show'));
  } catch {
    return;
  }
  for (const r of failed) Object.assign(r, details.get(r.name) ?? {});
}

/** The answer: failed ones first, then by name; at most `maxRows`, the rest counted. */
export function servicesAnswer(source: string, rows: ServiceRow[], failedOnly: boolean, maxRows = MAX_SERVICE_ROWS): ServicesResult {
  const failedCount = rows.reduce((n, r) => n + (r.failed ? 1 : 0), 0);
  const picked = (failedOnly ? rows.filter((r) => r.failed) : [...rows]).sort((a, b) => Number(b.failed) - Number(a.failed) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: ServicesResult = { source, services: picked.slice(0, maxRows), total: rows.length, failedCount };
  if (picked.length > maxRows) out.omitted = picked.length - maxRows;
  return out;
}

export async function readServices(o: ReadServicesOptions = {}): Promise<ServicesResult> {
  const { source, rows } = await listServices({ ...o, details: true });
  return servicesAnswer(source, rows, !!o.failedOnly, o.maxRows);
}

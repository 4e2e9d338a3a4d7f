// The services readers on recorded output, through an injected runner. systemd is not PID 1 on the
// machine these tests run on, so the systemctl JSON (test/fixtures/systemctl-list-units-*.json) is
// a faithful sample written to systemctl 252's --output=json format (one array, an object a unit
// keyed unit/load/active/sub/description), NOT captured here; the "not booted" text IS what
// systemctl 252 printed here. The Get-Service JSON is likewise a sample in Windows PowerShell 5.1's
// ConvertTo-Json layout (CRLF, two spaces after the colon, enums as numbers), not captured here.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { listServices, MAX_SERVICE_ROWS, POWERSHELL_ARGS, readServices, SHOW_ARGS, SYSTEMCTL_ARGS } from '../../common/actions/services.ts';
import { parseSystemctlShow, parseSystemctlUnits } from '../../common/actions/systemctl.ts';
import { parseGetServiceJson } from '../../common/actions/win-services.ts';
import { HwError } from '../../common/errors.ts';
import type { Runner } from '../../common/util/runner.ts';
import { codeOf, codeOfAsync } from '../harness.helper.ts';
import { fixture } from '../collect/fake-proc.helper.ts';

const test = suite('actions/services');
const text = (name: string) => readFileSync(fixture(name), 'utf8');

/** A runner that answers one program with fixed output and records what it was asked. */
function answering(file: string, out: { stdout?: string; stderr?: string; code?: number | null; error?: string }, calls: string[][] = []): Runner {
  return async (f, args, opts) => {
    calls.push([f, ...args, `timeout=${opts?.timeoutMs}`, `max=${opts?.maxBytes}`]);
    if (f !== file) throw new HwError('UNAVAILABLE', `${f}: not found`);
    return { stdout: out.stdout ?? '', stderr: out.stderr ?? '', code: out.code === undefined ? 0 : out.code, ...(out.error ? { error: out.error } : {}) };
  };
}

test('systemctl JSON: every unit, its states, failed and running', () => {
  const rows = parseSystemctlUnits(text('systemctl-list-units-services.json'));
  assert.is(rows.length, 17);
  assert.equal(rows.find((r) => r.name === 'nginx.service'), {
    name: 'nginx.service', description: 'A high performance web server and a reverse proxy server', active: 'failed', sub: 'failed', running: false, failed: true,
  });
  assert.equal(rows.filter((r) => r.failed).map((r) => r.name), ['nginx.service', 'postgresql@15-main.service']);
  // active exited (a oneshot that stays) runs; inactive dead does not and has not failed.
  assert.equal(['postgresql.service', 'logrotate.service', 'auditd.service'].map((n) => rows.find((r) => r.name === n)!.running), [true, false, false]);
});

test('systemctl JSON: extra columns (job, the status glyph under an empty name) are ignored', () => {
  const rows = parseSystemctlUnits('[{"":"●","unit":"a.service","load":"loaded","active":"activating","sub":"start","job":"start","description":"A"}]');
  assert.equal(rows, [{ name: 'a.service', description: 'A', active: 'activating', sub: 'start', running: false, failed: false }]);
});

test('garbage is SERVICES_UNAVAILABLE, never an empty list', () => {
  for (const g of ['', 'Failed to list units: Access denied', '{"unit":"x"}', '[{"name":"x"}]', '[1,2]']) {
    assert.is(codeOf(() => parseSystemctlUnits(g)), 'SERVICES_UNAVAILABLE', g);
  }
  assert.equal(parseSystemctlUnits('[]'), []);
  for (const g of ['', '<html>', '[{"DisplayName":"x"}]']) assert.is(codeOf(() => parseGetServiceJson(g)), 'SERVICES_UNAVAILABLE', g);
});

test('Get-Service JSON (PowerShell 5.1: CRLF, enums as numbers): names, status, start type, failed = automatic and stopped', () => {
  const rows = parseGetServiceJson(text('get-service-json.txt'));
  assert.is(rows.length, 11);
  assert.equal(rows.find((r) => r.name === 'MSSQLSERVER'), { name: 'MSSQLSERVER', description: 'SQL Server (MSSQLSERVER)', active: 'stopped', sub: 'automatic', running: false, failed: true });
  assert.equal(rows.find((r) => r.name === 'Spooler'), { name: 'Spooler', description: 'Print Spooler', active: 'running', sub: 'automatic', running: true, failed: false });
  assert.equal(rows.find((r) => r.name === 'wuauserv')!.failed, false, 'manual and stopped is not failed');
  // One service: ConvertTo-Json prints an object, not an array. PowerShell 7 may print enum names.
  assert.equal(parseGetServiceJson('\uFEFF{"Name":"W3SVC","DisplayName":"WWW","Status":"StopPending","StartType":"Automatic"}'), [
    { name: 'W3SVC', description: 'WWW', active: 'stop-pending', sub: 'automatic', running: false, failed: true },
  ]);
});

test('Linux: systemctl is run with its arguments, a time limit and an output cap; --failed keeps the failed ones', async () => {
  const calls: string[][] = [];
  const r = await readServices({ platform: 'linux', runner: answering('systemctl', { stdout: text('systemctl-list-units-services.json') }, calls), failedOnly: true });
  assert.equal(calls[0]!.slice(0, 1 + SYSTEMCTL_ARGS.length), ['systemctl', ...SYSTEMCTL_ARGS]);
  assert.match(calls[0]!.join(' '), /timeout=\d+ max=\d+/);
  assert.equal([r.source, r.total, r.failedCount, r.services.map((s) => s.name)], ['systemctl', 17, 2, ['nginx.service', 'postgresql@15-main.service']]);
  const all = await readServices({ platform: 'linux', runner: answering('systemctl', { stdout: text('systemctl-list-units-services.json') }) });
  assert.equal(all.services.slice(0, 3).map((s) => s.name), ['nginx.service', 'postgresql@15-main.service', 'apt-daily-upgrade.service'], 'failed first, then by name');
});

test('Windows: PowerShell Get-Service', async () => {
  const calls: string[][] = [];
  const r = await readServices({ platform: 'win32', runner: answering('powershell', { stdout: text('get-service-json.txt') }, calls), failedOnly: true });
  assert.equal(calls[0]!.slice(0, 1 + POWERSHELL_ARGS.length), ['powershell', ...POWERSHELL_ARGS]);
  assert.equal([r.source, r.total, r.services.map((s) => s.name)], ['powershell Get-Service', 11, ['MSSQLSERVER']]);
});

test('a host without systemd says so with a code and the reason: not booted with systemd (real output), no systemctl, a hang', async () => {
  const notBooted = answering('systemctl', { stderr: text('systemctl-not-booted.txt'), code: 1 });
  let err = await listServices({ platform: 'linux', runner: notBooted }).catch((e: HwError) => e);
  assert.instance(err, HwError);
  assert.is((err as HwError).code, 'SERVICES_UNAVAILABLE');
  assert.match((err as HwError).message, /systemd is not running on this host \(System has not been booted with systemd/);

  err = await listServices({ platform: 'linux', runner: answering('nothing', {}) }).catch((e: HwError) => e);
  assert.equal([(err as HwError).code, (err as HwError).message], ['SERVICES_UNAVAILABLE', 'cannot list the systemd units: systemctl: not found']);

  const hung = answering('systemctl', { code: null, error: 'timed out after 10000 ms' });
  err = await listServices({ platform: 'linux', runner: hung }).catch((e: HwError) => e);
  assert.equal([(err as HwError).code, (err as HwError).message], ['SERVICES_UNAVAILABLE', 'cannot list the systemd units: systemctl timed out after 10000 ms']);

  assert.is(await codeOfAsync(listServices({ platform: 'win32', runner: answering('systemctl', {}) })), 'SERVICES_UNAVAILABLE');
});

test('a huge list is cut with a count: the failed ones kept first, the rest counted in omitted', async () => {
  const units = Array.from({ length: 5000 }, (_, i) => ({ unit: `unit-${String(i).padStart(4, '0')}.service`, load: 'loaded', active: i % 1000 === 7 ? 'failed' : 'active', sub: 'running', description: 'x'.repeat(400) }));
  const r = await readServices({ platform: 'linux', runner: answering('systemctl', { stdout: JSON.stringify(units) }) });
  assert.equal([r.services.length, r.omitted, r.total, r.failedCount], [MAX_SERVICE_ROWS, 5000 - MAX_SERVICE_ROWS, 5000, 5]);
  assert.equal(r.services.slice(0, 5).map((s) => s.failed), [true, true, true, true, true]);
  assert.is(r.services[0]!.description.length, 256, 'descriptions are cut');
  // Past the runner's byte cap the program is killed: a coded error, not a half list.
  const cut = answering('systemctl', { code: null, error: 'output larger than 8388608 bytes' });
  assert.is(await codeOfAsync(readServices({ platform: 'linux', runner: cut })), 'SERVICES_UNAVAILABLE');
});

test('systemctl show for the failed units (read by key, blocks named by Id): why each failed', async () => {
  // A sample of `systemctl show -p ...` (Service properties before Unit ones), not captured here.
  const d = parseSystemctlShow(text('systemctl-show-failed.txt'));
  assert.equal(d.get('nginx.service'), { result: 'exit-code', exitStatus: 1, since: 'Sun 2026-12-06 08:40:12 UTC' });
  assert.equal(parseSystemctlShow('Id=a.service\nResult=\nExecMainStatus=\nStateChangeTimestamp=n/a\n').get('a.service'), {});
  const calls: string[][] = [];
  const runner: Runner = async (f, args) => {
    calls.push([f, ...args]);
    return { stdout: text(args[0] === 'show' ? 'systemctl-show-failed.txt' : 'systemctl-list-units-services.json'), stderr: '', code: 0 };
  };
  const r = await readServices({ platform: 'linux', runner, failedOnly: true });
  assert.equal(calls[1], ['systemctl', ...SHOW_ARGS, '--', 'nginx.service', 'postgresql@15-main.service']);
  assert.equal(r.services.map((x) => [x.name, x.result, x.exitStatus]), [['nginx.service', 'exit-code', 1], ['postgresql@15-main.service', 'exit-code', 1]]);
  // Without failed units nothing more is run; a show that fails leaves the list as it is.
  const quiet: string[][] = [];
  await readServices({ platform: 'linux', runner: async (_f, args) => (quiet.push(args), { stdout: text('systemctl-list-units-nginx-running.json').replace(/"failed"/g, '"inactive"'), stderr: '', code: 0 }) });
  assert.is(quiet.length, 1);
  const broken = await readServices({ platform: 'linux', runner: async (_f, args) => ({ stdout: args[0] === 'show' ? '' : text('systemctl-list-units-services.json'), stderr: 'Access denied', code: args[0] === 'show' ? 1 : 0 }) });
  assert.equal([broken.failedCount, broken.services[0]!.result], [2, undefined]);
});

test.run();

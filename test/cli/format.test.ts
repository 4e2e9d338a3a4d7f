// What the CLI and console print: byte sizes, durations, percentages, aligned tables, alert lines.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { agentsTable, ago, alertLine, bytes, duration, pct, rate, started, statusText, table, topText } from '../../common/cli/format.ts';

const test = suite('cli/format');

test('bytes: binary units, one decimal past bytes, "-" when unknown', () => {
  assert.is(bytes(0), '0 B');
  assert.is(bytes(1023), '1023 B');
  assert.is(bytes(1024), '1.0 KiB');
  assert.is(bytes(1536), '1.5 KiB');
  assert.is(bytes(5 * 1024 ** 2), '5.0 MiB');
  assert.is(bytes(3.25 * 1024 ** 3), '3.3 GiB');
  assert.is(bytes(2 * 1024 ** 4), '2.0 TiB');
  assert.is(bytes(2048 * 1024 ** 5), '2048.0 PiB', 'the largest unit keeps counting');
  assert.is(bytes(null), '-');
  assert.is(bytes(undefined), '-');
  assert.is(bytes('12'), '-');
  assert.is(rate(1536.4), '1.5 KiB/s');
  assert.is(rate(null), '-');
});

test('duration: the two largest units, floored', () => {
  assert.is(duration(0), '0s');
  assert.is(duration(59.9), '59s');
  assert.is(duration(60), '1m 0s');
  assert.is(duration(3599), '59m 59s');
  assert.is(duration(3600), '1h 0m');
  assert.is(duration(86399), '23h 59m');
  assert.is(duration(86400), '1d 0h');
  assert.is(duration(90061), '1d 1h');
  assert.is(duration(400 * 86400), '400d 0h');
  assert.is(duration(null), '-');
});

test('pct and ago', () => {
  assert.is(pct(12.345), '12.3%');
  assert.is(pct(0), '0.0%');
  assert.is(pct(null), '-');
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.is(ago('2026-01-01T12:00:00Z', now), 'now');
  assert.is(ago('2026-01-01T11:59:59Z', now), 'now');
  assert.is(ago('2026-01-01T11:59:30Z', now), '30s ago');
  assert.is(ago('2026-01-01T10:00:00Z', now), '2h 0m ago');
  assert.is(ago('2026-01-01T12:00:05Z', now), 'now', 'a clock slightly ahead is not negative');
  assert.is(ago(null, now), 'never');
});

test('table: columns padded to the widest cell, two spaces apart, no trailing spaces', () => {
  const out = table([
    ['NAME', 'CPU', 'ID'],
    ['web-server-1', '5.0%', 'abc'],
    ['db', '100.0%', 'de'],
  ]);
  assert.is(out, [
    'NAME          CPU     ID',
    'web-server-1  5.0%    abc',
    'db            100.0%  de',
  ].join('\n'));
  for (const line of out.split('\n')) assert.is(line, line.trimEnd());
  assert.is(table([]), '');
  assert.is(table([['a', '', '']]), 'a', 'empty trailing cells leave no spaces');
});

test('agents table: one aligned row per agent with its version, "-" for unknown values, short id', () => {
  const now = Date.now();
  const out = agentsTable([
    {
      name: 'web1', address: '10.0.0.1', online: true, id: '0123456789abcdef', version: '0.2.0',
      lastSeen: new Date(now).toISOString(),
      metrics: { cpuPercent: 12.34, memPercent: 50, diskPercent: null, netRxRate: 2048, netTxRate: null, uptimeSeconds: 3700, processCount: 0 },
    },
    { name: 'db', address: '10.0.0.22', online: false, restarting: true, id: 'ffffffffffff', lastSeen: null, metrics: null },
  ]);
  const lines = out.split('\n');
  assert.is(lines.length, 3);
  assert.match(lines[0]!, /^NAME\s+ADDRESS\s+STATE\s+VERSION\s+CPU\s+MEM\s+DISK\s+NET IN\s+NET OUT\s+UPTIME\s+PROCS\s+LAST SEEN\s+ID$/);
  assert.match(lines[1]!, /^web1\s+10\.0\.0\.1\s+online\s+0\.2\.0\s+12\.3%\s+50\.0%\s+-\s+2\.0 KiB\/s\s+-\s+1h 1m\s+0\s+now\s+01234567$/);
  assert.match(lines[2]!, /^db\s+10\.0\.0\.22\s+restarting\s+-\s+-\s+-\s+-\s+-\s+-\s+-\s+-\s+never\s+ffffffff$/);
  // Aligned: the ADDRESS and ID columns start at the same offset on every line.
  for (const col of ['ADDRESS', 'ID']) {
    const at = lines[0]!.lastIndexOf(col);
    assert.ok(lines.slice(1).every((l) => l[at - 1] === ' ' && l[at] !== ' '), `${col} misaligned:\n${out}`);
  }
  assert.match(agentsTable([]), 'no agents yet');
});

test('alert lines', () => {
  assert.is(
    alertLine({ at: '2026-01-01T12:00:00.123Z', agent: 'web1', type: 'CPU_HIGH', value: 93.5, threshold: 80 }),
    '2026-01-01 12:00:00Z  web1  CPU_HIGH  CPU high: 93.5% (threshold 80%)',
  );
  assert.is(
    alertLine({ at: '2026-01-01T12:00:00.000Z', agent: 'web1', type: 'CPU_NORMAL', value: 20 }),
    '2026-01-01 12:00:00Z  web1  CPU_NORMAL  CPU back to normal: 20%',
  );
  assert.is(alertLine({ at: 5, agent: 'x', type: 'AGENT_SILENT', value: null }), '  x  AGENT_SILENT  AGENT_SILENT');
});

test('rule alert lines say what a container, service or process rule means instead of "0 (threshold 1)"', () => {
  const at = '2026-12-06T14:36:18.024Z';
  const base = { at, agent: 'web1', rule: 'containers_down', type: 'CONTAINERS_DOWN', severity: 'warning', threshold: 1 };
  assert.is(alertLine({ ...base, state: 'firing', value: 0, labels: { container: 'web-sick' } }),
    '2026-12-06 14:36:18Z  web1  CONTAINERS_DOWN  containers_down firing (warning): container not running, unhealthy or restarted container=web-sick');
  assert.match(alertLine({ ...base, state: 'resolved', value: 1, labels: { container: 'web-sick' } }), /containers_down resolved: container running and healthy container=web-sick$/);
  assert.match(alertLine({ ...base, state: 'resolved', value: 0, labels: { container: 'web-old' } }), /containers_down resolved: container removed container=web-old$/);
  assert.match(alertLine({ ...base, rule: 'web_service', type: 'WEB_SERVICE', state: 'firing', value: 0, labels: { service: 'nginx.service' } }), /web_service firing \(warning\): service not running service=nginx\.service$/);
  assert.match(alertLine({ ...base, rule: 'app_running', type: 'APP_RUNNING', state: 'firing', value: 0, labels: { cmdline: '*app*' } }), /app_running firing \(warning\): 0 running \(fewer than 1\) cmdline=\*app\*$/);
  assert.match(alertLine({ ...base, rule: 'app_running', type: 'APP_RUNNING_RESOLVED', state: 'resolved', value: 2, labels: { match: 'app' } }), /app_running resolved: 2 running \(at least 1\) match=app$/);
  assert.match(alertLine({ ...base, rule: 'mem', type: 'MEM', state: 'firing', value: 93, threshold: 90, labels: {} }), /mem firing \(warning\): 93 \(threshold 90\)$/);
});

test('status text shows null values as "-" and lists the reasons', () => {
  const out = statusText({
    hostname: 'web1', platform: 'linux', arch: 'x64', os: { distro: 'Debian', release: '12' },
    metrics: { cpuPercent: null, memPercent: 40, uptimeSeconds: 60, processCount: 9, unavailable: { cpuPercent: 'first sample' } },
    disks: [{ mount: '/', size: 1024 ** 3, used: 512 * 1024 ** 2, percent: 50, fs: 'ext4' }],
  });
  assert.match(out, 'host      web1 (linux, Debian 12, x64)');
  assert.match(out, /^cpu       -$/m);
  assert.match(out, /^memory    40\.0%$/m);
  assert.match(out, /^\/\s+1\.0 GiB\s+512\.0 MiB\s+50%\s+ext4$/m);
  assert.match(out, '  cpuPercent: first sample');
});

test('top: a table like top\'s, the command cut to the width, control characters inert; an alert names its processes', () => {
  const r = { total: 2, at: new Date(2026, 0, 2, 9, 0).getTime(), processes: [
    { pid: 7, user: 'ada', name: 'evil\u001b[2J', cpuPercent: 99.5, memBytes: 1048576, ioBytesPerSec: 2048, state: 'R', startedAt: new Date(2026, 0, 2, 3, 4).getTime(), command: `/bin/x ${'a'.repeat(200)}` },
    { pid: 8, user: null, name: 'k', cpuPercent: null, memBytes: 0, ioBytesPerSec: null, state: 'I', startedAt: null, command: null },
  ], unavailable: { io: 'needs privilege' } };
  const lines = topText(r, 120).split('\n');
  assert.is(lines[0], '2 processes');
  assert.match(lines[1]!, /^PID\s+USER\s+NAME\s+CPU%\s+MEM\s+IO\/s\s+STATE\s+STARTED\s+COMMAND$/);
  assert.match(lines[2]!, /^7\s+ada\s+evil\\x1b\[2J\s+99\.5\s+1\.0 MiB\s+2\.0 KiB\/s\s+R\s+03:04\s+\/bin\/x a+…$/);
  assert.is(lines[2]!.length, 120);
  assert.match(lines[3]!, /^8\s+-\s+k\s+-\s+0 B\s+-\s+I\s+-\s+-$/);
  assert.is(lines[4], 'io: needs privilege');
  assert.ok(lines.slice(1).every((l) => l.length <= 120));
  const line = alertLine({ at: '2026-01-02T03:04:05.000Z', agent: 'web1', type: 'CPU_HIGH_RULE', rule: 'cpu_high', state: 'firing', value: 97, threshold: 90, top: [{ pid: 7, name: 'yes', cpuPercent: 99.5, memBytes: 1048576 }] });
  assert.match(line, /top: yes\[7\] 99\.5% 1\.0 MiB$/);
});

test('top: STARTED is short local time as in ps (the day\'s HH:MM, then Dec05, then the year), so 80 columns keep the command', () => {
  const now = new Date(2026, 11, 6, 14, 40).getTime();
  assert.is(started(new Date(2026, 11, 6, 9, 5).getTime(), now), '09:05');
  assert.is(started(new Date(2026, 11, 5, 23, 59).getTime(), now), 'Dec05');
  assert.is(started(new Date(2025, 11, 6, 14, 0).getTime(), now), '2025');
  const r = { total: 1, at: now, processes: [
    { pid: 13392, user: 'root', name: 'node', cpuPercent: 26, memBytes: 712105984, ioBytesPerSec: 0, state: 'R', startedAt: new Date(2026, 11, 6, 14, 35).getTime(), command: '/usr/bin/node /srv/app/server.js --port 8080' },
  ] };
  const row = topText(r, 80).split('\n')[2]!;
  assert.ok(row.length <= 80, row);
  assert.match(row, /R\s+14:35\s+\/usr\/bin\/node \/srv\/a/, 'the command keeps 20 of the 80 columns');
});

test.run();

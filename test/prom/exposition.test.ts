// The text exposition writer, and the fleet's /metrics body as promtool judges it.
import { spawnSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManagerState } from '../../common/manager/state.ts';
import { FiringSet } from '../../common/notify/alert-names.ts';
import { escapeLabelValue, Exposition } from '../../common/prom/exposition.ts';
import { agentExposition, fleetExposition } from '../../common/prom/fleet-metrics.ts';

const test = suite('prom/exposition');

test('one HELP and one TYPE per family before its samples; labels escaped; ends with a newline', () => {
  const e = new Exposition();
  e.family('x_bytes', 'gauge', 'Some bytes.\nTwo lines.');
  e.sample('x_bytes', { a: 'q"uo\\te\nnl' }, 5);
  e.sample('x_bytes', { a: 'b' }, 1.5);
  const t = e.text();
  assert.is(t, '# HELP x_bytes Some bytes.\\nTwo lines.\n# TYPE x_bytes gauge\nx_bytes{a="q\\"uo\\\\te\\nnl"} 5\nx_bytes{a="b"} 1.5\n');
  assert.is(escapeLabelValue('\\"\n'), '\\\\\\"\\n');
});

test('a value that could not be read is absent, never 0; an empty family is left out', () => {
  const e = new Exposition();
  e.family('a_ratio', 'gauge', 'A.').family('b_total', 'counter', 'B.');
  e.sample('a_ratio', {}, null).sample('a_ratio', {}, undefined).sample('a_ratio', {}, NaN);
  assert.is(e.text(), '');
  assert.throws(() => e.sample('nope', {}, 1), /before it was declared/);
  assert.throws(() => e.family('bad name', 'gauge', ''), /bad metric name/);
  assert.throws(() => e.family('a_ratio', 'counter', ''), /declared as gauge/);
});

function fleet(): ManagerState {
  const s = new ManagerState();
  const base = { hostname: 'h', address: '10.0.0.1', platform: 'linux', arch: 'x64', version: '0.1.0', interval: 5, restartAllowed: false, filesEnabled: true, trust: 'accepted' as const, fingerprint: 'AA' };
  s.agentUp({ ...base, id: 'id-1', name: 'web "1"' });
  s.agentUp({ ...base, id: 'id-2', name: 'db' });
  s.report('id-1', {
    cpuPercent: 42.5, memPercent: 50, diskPercent: 70, netRxBytes: 10, netTxBytes: 20, uptimeSeconds: 99, processCount: 123,
    memTotalBytes: 8e9, memAvailableBytes: 4e9, diskSizeBytes: 1e11, diskAvailBytes: 3e10,
  }, [{ name: 'eth0', rxBytes: 10, txBytes: 20, rxRate: null, txRate: null }, { name: 'eth0', rxBytes: 11, txBytes: 21, rxRate: null, txRate: null }], Date.now(), false, [
    { mount: '/', type: 'ext4', size: 1e11, used: 6.5e10, available: 3e10, percent: 69 },
    { mount: '/srv/"odd"\\dir\nx', type: 'xfs', size: 2e12, used: 1e12, available: 1e12, percent: 50 },
    { mount: '/srv/"odd"\\dir\nx', type: 'xfs', size: 1, used: 1, available: 0, percent: 100 }, // reported twice: shown once
    { mount: '/old', size: 5e9, used: 1e9, percent: 20 }, // an older agent's mount: no type, no available
  ]);
  s.agentUp({ ...base, id: 'id-3', name: 'win', platform: 'win32' });
  s.report('id-3', { cpuPercent: 1, memPercent: 1, diskPercent: 10, netRxBytes: 1, netTxBytes: 1, uptimeSeconds: 1, processCount: 1, diskSizeBytes: 9, diskAvailBytes: 8 }, undefined, Date.now(), false,
    [{ mount: 'C:\\', type: 'drive', size: 1e11, used: 1e10, available: 9e10, percent: 10 }]);
  // An agent that reports no mounts: its root filesystem from the headline fields.
  s.agentUp({ ...base, id: 'id-4', name: 'old' });
  s.report('id-4', { cpuPercent: 1, memPercent: 1, diskPercent: 25, netRxBytes: 1, netTxBytes: 1, uptimeSeconds: 1, processCount: 1, diskSizeBytes: 400, diskAvailBytes: 300 }, undefined, Date.now());
  // What db could not read stays absent.
  s.report('id-2', { cpuPercent: null, memPercent: null, diskPercent: null, netRxBytes: null, netTxBytes: null, uptimeSeconds: 5, processCount: null, unavailable: { cpuPercent: 'x' } }, undefined, Date.now());
  s.alert('id-1', { seq: 1, alert: 'CPU_HIGH', value: 95, threshold: 80, at: Date.now() }, 'udp');
  return s;
}

test('the fleet body: labels agent and agent_id, ratios 0..1, unreadable values absent, firing alerts', () => {
  const s = fleet();
  const src = { state: s, figures: () => ({ agentsOnline: 2, reportsIngested: 2, alertsIngested: 1, eventLoopDelayMs: { p50: 1, p99: 2, max: 3 } }), firing: new FiringSet(s.alerts()) };
  const t = fleetExposition(src);
  assert.match(t, 'hostwatch_cpu_usage_ratio{agent="web \\"1\\"",agent_id="id-1"} 0.425\n');
  assert.match(t, 'hostwatch_memory_available_bytes{agent="web \\"1\\"",agent_id="id-1"} 4000000000\n');
  const w = 'agent="web \\"1\\"",agent_id="id-1"';
  assert.match(t, `hostwatch_filesystem_avail_bytes{${w},mountpoint="/",fstype="ext4"} 30000000000\n`);
  assert.match(t, `hostwatch_filesystem_size_bytes{${w},mountpoint="/",fstype="ext4"} 100000000000\n`);
  assert.match(t, `hostwatch_filesystem_used_ratio{${w},mountpoint="/",fstype="ext4"} 0.69\n`);
  const odd = 'mountpoint="/srv/\\"odd\\"\\\\dir\\nx",fstype="xfs"';
  assert.match(t, `hostwatch_filesystem_size_bytes{${w},${odd}} 2000000000000\n`);
  assert.match(t, `hostwatch_filesystem_avail_bytes{${w},${odd}} 1000000000000\n`);
  assert.is(t.split('\n').filter((x) => x.startsWith(`hostwatch_filesystem_size_bytes{${w},`)).length, 3, 'one series per mount point');
  assert.match(t, `hostwatch_filesystem_size_bytes{${w},mountpoint="/old",fstype=""} 5000000000\n`);
  assert.not.match(t, /hostwatch_filesystem_avail_bytes\{[^}]*mountpoint="\/old"/, 'an available the agent did not send is absent');
  assert.match(t, 'hostwatch_filesystem_size_bytes{agent="win",agent_id="id-3",mountpoint="C:",fstype="drive"} 100000000000\n');
  assert.not.match(t, /agent_id="id-3",mountpoint="C:"\} /, 'the record\'s mounts replace the headline fallback');
  assert.match(t, 'hostwatch_filesystem_size_bytes{agent="old",agent_id="id-4",mountpoint="/"} 400\n');
  assert.match(t, 'hostwatch_filesystem_avail_bytes{agent="old",agent_id="id-4",mountpoint="/"} 300\n');
  assert.not.match(t, /hostwatch_filesystem_size_bytes\{agent="db"/);
  assert.match(t, 'hostwatch_network_receive_bytes_total{agent="web \\"1\\"",agent_id="id-1",device="eth0"} 10\n');
  assert.is(t.split('\n').filter((x) => x.startsWith(`hostwatch_network_receive_bytes_total{${w},`)).length, 1, 'an interface reported twice is one series');
  assert.match(t, 'hostwatch_alerts_firing{agent="web \\"1\\"",agent_id="id-1",alertname="cpu_high"} 1\n');
  assert.match(t, 'hostwatch_alerts_firing{agent="db",agent_id="id-2",alertname="cpu_high"} 0\n');
  assert.match(t, 'hostwatch_agent_up{agent="db",agent_id="id-2"} 1\n');
  assert.match(t, 'hostwatch_uptime_seconds{agent="db",agent_id="id-2"} 5\n');
  assert.not.match(t, /hostwatch_cpu_usage_ratio\{agent="db"/);
  assert.not.match(t, /hostwatch_processes\{agent="db"/);
  assert.match(t, 'hostwatch_manager_alerts_ingested_total 1\n');
  assert.match(t, 'hostwatch_manager_event_loop_delay_p99_seconds 0.002\n');
  assert.match(t, /process_resident_memory_bytes \d+/);
  const one = agentExposition(src, s.agent('id-2')!);
  assert.not.match(one, /id-1|hostwatch_manager_/);
});

test('promtool check metrics finds no problem in the fleet body', () => {
  const s = fleet();
  const text = fleetExposition({ state: s, figures: () => ({ agentsOnline: 2, droppedDatagrams: { bad_mac: 3 } }), firing: new FiringSet(s.alerts()) });
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  assert.is(r.error, undefined, 'promtool runs (apt-get install prometheus)');
  assert.is(r.stdout + r.stderr, '', 'no problem reported');
  assert.is(r.status, 0);
});

test.run();

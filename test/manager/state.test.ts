// The manager's state: alert de-duplication across UDP and TCP and across a restart (restore from the
// event log), and finding an agent by name, id, id prefix, address or hostname.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { ALERT_DEDUPE_WINDOW } from '../../common/manager/alert-dedupe.ts';
import { HwError } from '../../common/errors.ts';
import { EventLog } from '../../common/manager/event-log.ts';
import { ManagerState, type AgentRecord, type AlertRecord } from '../../common/manager/state.ts';
import { agentJson } from '../../common/api/json.ts';
import { cleanTempDirs, tempDir, codeOf } from '../harness.helper.ts';

const test = suite('manager/state');
test.after.each(() => cleanTempDirs());

const ID1 = '11111111-aaaa-4000-8000-000000000001';
const ID2 = '22222222-bbbb-4000-8000-000000000002';
const ID3 = '22223333-cccc-4000-8000-000000000003';

function up(s: ManagerState, id: string, over: Partial<AgentRecord> = {}): AgentRecord {
  return s.agentUp({
    id, name: `n-${id.slice(0, 4)}`, hostname: `h-${id.slice(0, 4)}`, address: '10.0.0.1', platform: 'linux', arch: 'x64',
    version: '0.1.0', interval: 5, restartAllowed: false, filesEnabled: true, trust: 'accepted', fingerprint: 'AA:BB', ...over,
  });
}

const alert = (seq: number, alertType = 'CPU_HIGH', value = 90) => ({ seq, alert: alertType, value, threshold: 80, at: 1_000 + seq });


function openLog(dir: string): EventLog {
  const log = new EventLog(join(dir, 'events.jsonl'));
  return log;
}

test('the same seq via UDP then TCP is shown once', () => {
  let t = 5000;
  const s = new ManagerState({ now: () => t });
  up(s, ID1, { name: 'web1' });
  const shown: AlertRecord[] = [];
  s.on('alert', (a) => shown.push(a));
  assert.is(s.alert(ID1, alert(1), 'udp'), true);
  t += 10;
  assert.is(s.alert(ID1, alert(1), 'tcp'), false);
  assert.is(s.alert(ID1, alert(1), 'udp'), false);
  assert.is(shown.length, 1);
  assert.equal(s.alerts(), shown);
  assert.equal(shown[0], {
    agent: 'web1', agentId: ID1, type: 'CPU_HIGH', value: 90, threshold: 80, at: 1001, seq: 1, n: 1, receivedAt: 5000, via: 'udp',
    rule: 'cpu_high', state: 'firing', severity: 'warning',
  });
});

test('out-of-order seqs are all accepted, each once; seqs are per agent', () => {
  const s = new ManagerState();
  up(s, ID1);
  up(s, ID2);
  assert.is(s.alert(ID1, alert(5), 'tcp'), true);
  assert.is(s.alert(ID1, alert(3), 'udp'), true);
  assert.is(s.alert(ID1, alert(4), 'udp'), true);
  assert.is(s.alert(ID1, alert(3), 'tcp'), false);
  assert.is(s.alert(ID1, alert(5), 'udp'), false);
  assert.is(s.alert(ID2, alert(5), 'udp'), true, 'another agent\'s seq 5 is its own');
  assert.equal(s.alerts().map((a) => [a.agentId, a.seq, a.n]), [[ID1, 5, 1], [ID1, 3, 2], [ID1, 4, 3], [ID2, 5, 4]]);
  assert.equal(s.alerts(2).map((a) => a.n), [3, 4], 'alerts after n=2');
  assert.equal(s.alerts(0, 1).map((a) => a.n), [4], 'limit keeps the newest');
});

test('a new alert is flushed to the event log before alert() returns', () => {
  const dir = tempDir();
  const log = openLog(dir);
  log.readBack();
  log.open();
  const s = new ManagerState({ log });
  up(s, ID1, { name: 'web1' });
  s.alert(ID1, alert(1), 'udp');
  // Read by another reader while the log is still open: the line is already there.
  const events = new EventLog(join(dir, 'events.jsonl')).readBack();
  const logged = events.filter((e) => e.event === 'alert');
  assert.is(logged.length, 1);
  assert.is((logged[0]!.alert as AlertRecord).seq, 1);
  s.alert(ID1, alert(1), 'tcp');
  assert.is(new EventLog(join(dir, 'events.jsonl')).readBack().filter((e) => e.event === 'alert').length, 1, 'a duplicate is not logged');
  log.close();
});

test('restore() after a restart rebuilds alerts, enrolled agents\' details and dedupe: a replayed seq is not shown again', () => {
  const dir = tempDir();
  const log = openLog(dir);
  log.readBack();
  log.open();
  let t = 10_000;
  const before = new ManagerState({ log, now: () => t });
  up(before, ID1, { name: 'web1', address: '10.0.0.7' });
  before.alert(ID1, alert(1), 'udp');
  before.alert(ID1, alert(2, 'CPU_NORMAL', 20), 'tcp');
  t += 5;
  before.agentDown(ID1, 'manager stopping');
  log.close();

  const log2 = openLog(dir);
  const after = new ManagerState({ log: log2 });
  // The registry is agents.json: the agent is registered from it, the record adds its details.
  after.register({ id: ID1, name: 'web1', fingerprint: 'AA', status: 'accepted' });
  after.restore(log2.readBack());
  log2.open();
  assert.equal(after.alerts().map((a) => [a.agentId, a.seq, a.type, a.value, a.via]), [
    [ID1, 1, 'CPU_HIGH', 90, 'udp'], [ID1, 2, 'CPU_NORMAL', 20, 'tcp'],
  ]);
  const rec = after.agent(ID1)!;
  assert.ok(rec, 'agent restored');
  assert.is(rec.online, false);
  assert.is(rec.name, 'web1');
  assert.is(rec.address, '10.0.0.7');
  assert.is(rec.lastSeen, 10_005);
  // The agent comes back and retransmits seq 2 (its ack was lost in the crash): not shown again.
  const shown: AlertRecord[] = [];
  after.on('alert', (a) => shown.push(a));
  assert.is(after.alert(ID1, alert(2, 'CPU_NORMAL', 20), 'udp'), false);
  assert.is(after.alert(ID1, alert(1), 'tcp'), false);
  assert.is(after.alert(ID1, alert(3), 'tcp'), true);
  assert.equal(shown.map((a) => [a.seq, a.n]), [[3, 3]], 'n continues after the restored alerts');
  log2.close();
});

test('restore() skips malformed events and does not dedupe manager-made alerts', () => {
  const s = new ManagerState();
  s.restore([
    { at: 1, event: 'alert', alert: { agentId: ID1, seq: 'x' } },
    { at: 1, event: 'alert', alert: 'nope' },
    { at: 1, event: 'connect' },
    { at: 1, event: 'connect', agent: { name: 'no id' } },
    { at: 2, event: 'alert', alert: { agent: 'a', agentId: ID1, type: 'AGENT_SILENT', value: 0, at: 2, seq: 7, n: 99, receivedAt: 2, via: 'manager' } },
    { at: 3, event: 'something-else' },
  ]);
  assert.equal(s.alerts().map((a) => [a.type, a.n]), [['AGENT_SILENT', 99]], 'its number as recorded');
  assert.equal(s.agents(true), []);
  assert.is(s.alert(ID1, alert(7), 'udp'), true, 'a manager-made alert\'s seq does not block the agent\'s own seq');
});

test('restore() keeps each alert\'s recorded number when it is ahead, counts on for one without, and live alerts follow', () => {
  const s = new ManagerState();
  const rec = (seq: number, n?: number) => ({ at: 1, event: 'alert', alert: { agent: 'a', agentId: ID1, type: 'CPU_HIGH', value: 90, at: 1, seq, ...(n === undefined ? {} : { n }), receivedAt: 1, via: 'udp' } });
  // The newest part of a long record: numbers far from 1, one record without, one behind (an older version's restart).
  s.restore([rec(1, 500), rec(2, 501), rec(3), rec(4, 7), rec(5, 510)]);
  assert.equal(s.alerts().map((a) => a.n), [500, 501, 502, 503, 510]);
  up(s, ID1);
  assert.ok(s.alert(ID1, alert(6), 'udp'));
  assert.is(s.alerts().at(-1)!.n, 511, 'the next live alert follows the newest');
});

test(`seqs older than the dedupe window (${ALERT_DEDUPE_WINDOW}) are treated as handled`, () => {
  const s = new ManagerState();
  up(s, ID1);
  assert.ok(s.alert(ID1, alert(ALERT_DEDUPE_WINDOW + 10), 'udp'));
  assert.is(s.alert(ID1, alert(10), 'udp'), false);
  assert.is(s.alert(ID1, alert(11), 'udp'), true, 'just inside the window is still new');
});

test('find: by id, name, address, hostname, id prefix of 4+ characters', () => {
  const s = new ManagerState();
  up(s, ID1, { name: 'web1', address: '10.0.0.1', hostname: 'web1.lan' });
  up(s, ID2, { name: 'db1', address: '10.0.0.2', hostname: 'db.lan' });
  assert.is(s.find(ID1).id, ID1);
  assert.is(s.find('web1').id, ID1);
  assert.is(s.find('10.0.0.2').id, ID2);
  assert.is(s.find('db.lan').id, ID2);
  assert.is(s.find('1111').id, ID1);
  assert.is(s.find('11111111-aaaa').id, ID1);
  assert.is(codeOf(() => s.find('111')), 'AGENT_NOT_FOUND', 'too short a prefix');
  assert.is(codeOf(() => s.find('nobody')), 'AGENT_NOT_FOUND');
  assert.is(codeOf(() => s.find('10.0.0.3')), 'AGENT_NOT_FOUND');
  assert.is(codeOf(() => s.find('')), 'AGENT_NOT_FOUND');
});

test('find: a name wins over another agent\'s id prefix; one agent\'s id that is another\'s name is AGENT_AMBIGUOUS naming both', () => {
  const s = new ManagerState();
  up(s, ID1, { name: '2222', fingerprint: 'K1' }); // a name that is also a prefix of ID2 and ID3
  up(s, ID2, { name: 'b', fingerprint: 'K2' });
  up(s, ID3, { name: ID1, fingerprint: 'K3' }); // a name equal to another agent's id
  assert.is(s.find('2222').id, ID1);
  let err: unknown;
  try {
    s.find(ID1);
  } catch (e) {
    err = e;
  }
  assert.instance(err, HwError);
  assert.is((err as HwError).code, 'AGENT_AMBIGUOUS', 'neither the id nor the name wins, online or not');
  assert.match((err as Error).message, `id of "2222" (id ${ID1})`);
  assert.match((err as Error).message, `name of "${ID1}" (id ${ID3})`);
  s.agentDown(ID1, 'gone');
  assert.is(codeOf(() => s.find(ID1)), 'AGENT_AMBIGUOUS', 'the online one does not win either');
  assert.is(s.find(`id:${ID1}`).id, ID1, 'id: says which');
  assert.is(s.find(`name:${ID1}`).id, ID3, 'name: says which');
  assert.is(codeOf(() => s.find(`id:${ID3.slice(0, 8)}`)), 'AGENT_NOT_FOUND', 'id: takes a whole id only');
  assert.is(codeOf(() => s.find('name:nobody')), 'AGENT_NOT_FOUND');
});

test('find: one name held by agents with different keys is AGENT_AMBIGUOUS even when one is online', () => {
  const s = new ManagerState();
  up(s, ID1, { name: 'web', fingerprint: 'K1', trust: 'pending' });
  up(s, ID2, { name: 'web', fingerprint: 'K2', trust: 'pending' });
  s.agentDown(ID1, 'gone');
  assert.is(codeOf(() => s.find('web', true)), 'AGENT_AMBIGUOUS');
});

test('find: AGENT_AMBIGUOUS when several match, unless exactly one of them is online', () => {
  const s = new ManagerState();
  up(s, ID1, { name: 'web', address: '10.0.0.9' });
  up(s, ID2, { name: 'web', address: '10.0.0.9' });
  up(s, ID3, { name: 'other', address: '10.0.0.10' });
  let err: unknown;
  try {
    s.find('web');
  } catch (e) {
    err = e;
  }
  assert.instance(err, HwError);
  assert.is((err as HwError).code, 'AGENT_AMBIGUOUS');
  assert.match((err as Error).message, ID1);
  assert.match((err as Error).message, ID2);
  assert.is(codeOf(() => s.find('10.0.0.9')), 'AGENT_AMBIGUOUS');
  assert.is(codeOf(() => s.find('2222')), 'AGENT_AMBIGUOUS', 'prefix shared by ID2 and ID3');
  s.agentDown(ID1, 'gone');
  assert.is(s.find('web').id, ID2, 'the only online one');
  s.agentDown(ID2, 'gone');
  assert.is(codeOf(() => s.find('web')), 'AGENT_AMBIGUOUS', 'both offline again');
});

test('find: pending agents are hidden unless asked for', () => {
  const s = new ManagerState();
  up(s, ID1, { name: 'newbie', trust: 'pending' });
  assert.is(codeOf(() => s.find('newbie')), 'AGENT_NOT_FOUND');
  assert.is(codeOf(() => s.find(ID1)), 'AGENT_NOT_FOUND');
  assert.is(s.find('newbie', true).id, ID1);
  assert.is(s.find(ID1, true).id, ID1);
  assert.equal(s.agents().map((a) => a.id), []);
  assert.equal(s.pending().map((a) => a.id), [ID1]);
  s.setTrust(ID1, 'accepted');
  assert.is(s.find('newbie').id, ID1);
});

test('agent up/down/report events and records', () => {
  let t = 100;
  const s = new ManagerState({ now: () => t });
  const seen: [string, string][] = [];
  s.on('agent', (a, what) => seen.push([a.id, what]));
  const logged: string[] = [];
  s.on('event', (e) => logged.push(e.event));
  up(s, ID1);
  t = 200;
  s.report(ID1, { cpuPercent: 5, memPercent: null, diskPercent: 1, netRxBytes: 1, netTxBytes: 2, uptimeSeconds: 3, processCount: 4 }, undefined, 150);
  assert.is(s.agent(ID1)!.lastSeen, 200);
  assert.is(s.agent(ID1)!.metrics!.cpuPercent, 5);
  s.agentDown(ID1, 'heartbeat');
  s.agentDown(ID1, 'again'); // already down: nothing
  s.markRestarting(ID1);
  t = 300;
  up(s, ID1);
  assert.is(s.agent(ID1)!.restarting, false);
  assert.is(s.agent(ID1)!.connectedAt, 300);
  assert.equal(seen, [[ID1, 'new'], [ID1, 'report'], [ID1, 'down'], [ID1, 'up']]);
  assert.equal(logged, ['connect', 'disconnect', 'connect']);
  s.report('unknown', { cpuPercent: 1, memPercent: 1, diskPercent: 1, netRxBytes: 1, netTxBytes: 1, uptimeSeconds: 1, processCount: 1 }, undefined, 1);
  assert.is(s.agent('unknown'), undefined);
});

test('the record keeps the newest report\'s mounts; agentJson shows them, older agents\' fields as null', () => {
  let t = 100;
  const s = new ManagerState({ now: () => t });
  up(s, ID1);
  assert.equal(agentJson(s.agent(ID1)!).mounts, [], 'no mounts before a report carries them');
  const M = { cpuPercent: 5, memPercent: 1, diskPercent: 1, netRxBytes: 1, netTxBytes: 2, uptimeSeconds: 3, processCount: 4 };
  const root = { mount: '/', type: 'ext4', size: 1000, used: 400, available: 550, percent: 43 };
  s.report(ID1, M, undefined, 150, false, [root, { mount: '/old', size: 10, used: 9, percent: 90 }]);
  t = 200;
  s.report(ID1, M, undefined, 160); // a report without mounts (the first after a start) keeps the last ones
  assert.equal(agentJson(s.agent(ID1)!).mounts, [root, { mount: '/old', type: null, size: 10, used: 9, available: null, percent: 90 }]);
  s.report(ID1, M, undefined, 140, true, [{ ...root, used: 999, percent: 100 }]); // late backfill: not the latest
  assert.is(s.agent(ID1)!.mounts[0]!.used, 400);
  s.report(ID1, M, undefined, 170, false, [{ ...root, used: 500, available: 450, percent: 53 }]);
  assert.equal(s.agent(ID1)!.mounts.map((m) => [m.mount, m.used]), [['/', 500]], 'a mount no longer reported is gone');
  const viaJson = JSON.parse(JSON.stringify(agentJson(s.agent(ID1)!)));
  assert.equal(viaJson.mounts, [{ ...root, used: 500, available: 450, percent: 53 }]);
});

test('an agent whose counter was reset (alerts.json lost, new epoch) is not dropped; recorded, so acknowledged', () => {
  const dir = tempDir();
  const log = openLog(dir);
  log.readBack();
  log.open();
  const s = new ManagerState({ log });
  up(s, ID1, { name: 'reset' });
  assert.ok(s.alert(ID1, { ...alert(1), epoch: 'first' }, 'tcp'));
  assert.ok(s.alert(ID1, { ...alert(2), epoch: 'first' }, 'tcp'));
  assert.ok(s.isRecorded(ID1, 'first', 2), 'on disk: acknowledged');
  // The agent lost its state: seq 1 again, in a new epoch.
  assert.ok(s.alert(ID1, { ...alert(1, 'CPU_NORMAL', 10), epoch: 'second' }, 'udp'), 'not a duplicate');
  assert.ok(s.isRecorded(ID1, 'second', 1));
  assert.not.ok(s.alert(ID1, { ...alert(1, 'CPU_NORMAL', 10), epoch: 'second' }, 'tcp'), 'its resend is');
  assert.not.ok(s.isRecorded(ID1, 'third', 1), 'never seen: not acknowledged');
  log.close();
  // After a restart the epochs are read back with the alerts.
  const s2 = new ManagerState({ log: openLog(dir) });
  s2.restore(openLog(dir).readBack());
  assert.not.ok(s2.alert(ID1, { ...alert(1), epoch: 'first' }, 'udp'));
  assert.ok(s2.isRecorded(ID1, 'second', 1));
  assert.ok(s2.alert(ID1, { ...alert(2), epoch: 'second' }, 'udp'));
  assert.equal(s2.alerts().map((a) => [a.epoch ?? '', a.seq]), [['first', 1], ['first', 2], ['second', 1], ['second', 2]]);
});

test('each report replaces the shown metrics, interfaces and mounts exactly (kept in place when their keys match)', () => {
  const s = new ManagerState({ now: () => 1000 });
  up(s, ID1);
  const base = { cpuPercent: 5, memPercent: 10, diskPercent: 1, netRxBytes: 1, netTxBytes: 2, uptimeSeconds: 3, processCount: 4 };
  const eth = (rx: number) => [{ name: 'eth0', rxBytes: rx, txBytes: 1, rxRate: null, txRate: null }];
  s.report(ID1, { ...base, load1: 0.5 }, eth(1), 100, false, [{ mount: '/', size: 10, used: 1, percent: 10 }]);
  const first = s.agent(ID1)!.metrics;
  s.report(ID1, { ...base, cpuPercent: 7, load1: 0.25 }, eth(2), 110, false, [{ mount: '/', size: 10, used: 2, percent: 20 }]);
  const rec = s.agent(ID1)!;
  assert.is(rec.metrics, first); // same keys: the same object, new values
  assert.equal(rec.metrics, { ...base, cpuPercent: 7, load1: 0.25 });
  assert.equal(rec.interfaces, eth(2));
  assert.equal(rec.mounts, [{ mount: '/', size: 10, used: 2, percent: 20 }]);
  // A report with other keys (load1 gone, swap new) and another interface list is taken as it is.
  s.report(ID1, { ...base, swapUsedBytes: 5 }, [...eth(3), { name: 'wlan0', rxBytes: 9, txBytes: 9, rxRate: 1, txRate: 1 }], 120);
  assert.equal(rec.metrics, { ...base, swapUsedBytes: 5 });
  assert.is(rec.interfaces.length, 2);
  assert.is(rec.interfaces[0]!.rxBytes, 3);
  assert.equal(rec.mounts, [{ mount: '/', size: 10, used: 2, percent: 20 }]);
  // A late backfilled sample changes nothing shown.
  s.report(ID1, { ...base, cpuPercent: 99, swapUsedBytes: 1 }, eth(0), 90, true);
  assert.is(rec.metrics!.cpuPercent, 5);
  assert.is(rec.interfaces[0]!.rxBytes, 3);
});

test.run();

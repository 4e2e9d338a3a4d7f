// The API's JSON built from the manager's records (common/api/json.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { agentJson, alertJson } from '../../common/api/json.ts';
import { ManagerState, type AlertRecord } from '../../common/manager/state.ts';

const test = suite('api/json');

const ID = '11111111-aaaa-4000-8000-000000000001';

test('an agent before its first report: every headline reading null, times as ISO or null', () => {
  const s = new ManagerState({ now: () => Date.UTC(2026, 0, 2, 3, 4, 5) });
  const rec = s.agentUp({
    id: ID, name: 'web1', hostname: 'web1.lan', address: '10.0.0.1', platform: 'linux', arch: 'x64',
    version: '0.1.0', interval: 5, restartAllowed: false, filesEnabled: true, trust: 'accepted', fingerprint: 'AA:BB',
  });
  const j = agentJson(rec);
  assert.equal(j.metrics, { cpuPercent: null, memPercent: null, diskPercent: null, netRxBytes: null, netTxBytes: null, uptimeSeconds: null, processCount: null });
  assert.is(j.connectedAt, '2026-01-02T03:04:05.000Z');
  assert.is(j.name, 'web1');
  assert.equal(j.mounts, []);
  assert.not.ok('arch' in j || 'ownLabels' in j || 'restartAllowed' in j, 'record-only fields stay out of the JSON');
});

test('an alert from an agent older than rules gets its rule from the type; agent_down is critical', () => {
  const base: AlertRecord = { agent: 'web1', agentId: ID, type: 'CPU_NORMAL', value: 12, at: 0, seq: 4, n: 9, receivedAt: 1, via: 'udp' };
  assert.equal(alertJson(base), {
    agent: 'web1', agentId: ID, type: 'CPU_NORMAL', rule: 'cpu_high', state: 'resolved', severity: 'warning',
    value: 12, labels: {}, at: '1970-01-01T00:00:00.000Z', seq: 4, n: 9, via: 'udp',
  });
  const down = alertJson({ ...base, type: 'AGENT_DOWN', via: 'manager', threshold: 15, silenced: 's1' });
  assert.is(down.rule, 'agent_down');
  assert.is(down.state, 'firing');
  assert.is(down.severity, 'critical');
  assert.is(down.threshold, 15);
  assert.is(down.silenced, 's1');
});

test.run();

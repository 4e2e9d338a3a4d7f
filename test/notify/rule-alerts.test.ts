// A rule's alert in the notifier's model: alertname is the rule, firing from its state, severity
// its own, each mount its own condition (mountpoint in Alertmanager's labels), and /metrics'
// firing set keeps a rule firing while any of its mounts does.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conditionKey, FiringSet, meaningOfAlert } from '../../common/notify/alert-names.ts';
import { amLabels, describe } from '../../common/notify/formats.ts';
import type { AlertRecord } from '../../common/manager/state.ts';

const alert = (o: Partial<AlertRecord>): AlertRecord => ({ agent: 'db1', agentId: 'id1', type: 'DISK_FULL', value: 95, threshold: 90, at: 0, seq: 1, n: 1, receivedAt: 0, via: 'tcp', ...o });

test('a rule alert names its rule, state and severity; older ones are read from their type', () => {
  assert.equal(meaningOfAlert(alert({ rule: 'disk_full', state: 'firing', severity: 'critical' })), { alertname: 'disk_full', firing: true, severity: 'critical', oneShot: false });
  assert.equal(meaningOfAlert(alert({ type: 'DISK_FULL_RESOLVED', rule: 'disk_full', state: 'resolved' })).firing, false);
  assert.equal(meaningOfAlert(alert({ type: 'CPU_NORMAL' })), { alertname: 'cpu_high', firing: false, severity: 'warning', oneShot: false });
});

test('per mount: its own condition, mountpoint in the labels, firing while any mount fires', () => {
  const a = alert({ rule: 'disk_full', state: 'firing', labels: { mount: '/data' } });
  const m = meaningOfAlert(a);
  assert.equal(amLabels(a, undefined, m), { alertname: 'disk_full', agent: 'db1', agent_id: 'id1', severity: 'warning', mountpoint: '/data' });
  assert.is.not(conditionKey('disk_full', 'id1', { mount: '/data' }), conditionKey('disk_full', 'id1', { mount: '/' }));
  assert.is(describe(a).summary, 'disk_full on db1 (mount /data)');
  const f = new FiringSet([a, alert({ rule: 'disk_full', state: 'firing', labels: { mount: '/' } })]);
  f.apply(alert({ type: 'DISK_FULL_RESOLVED', rule: 'disk_full', state: 'resolved', labels: { mount: '/data' } }));
  assert.ok(f.isFiring('id1', 'disk_full'), '/ still fires');
  f.apply(alert({ type: 'DISK_FULL_RESOLVED', rule: 'disk_full', state: 'resolved', labels: { mount: '/' } }));
  assert.not.ok(f.isFiring('id1', 'disk_full'));
});

test.run();

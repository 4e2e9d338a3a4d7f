// An alert row's Value and Threshold on the dashboard: a container or service rule says its state
// in words (not "0" against "1"); a process rule gives its count; CPU a percentage; AGENT_DOWN its silence.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { alertValue } from '../../web/alert-value.ts';

test('container and service rules: the state in words, no threshold', () => {
  const c = { type: 'CONTAINERS_DOWN', threshold: 1, labels: { container: 'web-sick' } };
  assert.equal(alertValue({ ...c, value: 0, state: 'firing' }), { value: 'down', threshold: '-' });
  assert.equal(alertValue({ ...c, value: 1, state: 'resolved' }), { value: 'running', threshold: '-' });
  assert.equal(alertValue({ ...c, value: 0, state: 'resolved' }), { value: 'removed', threshold: '-' });
  assert.equal(alertValue({ type: 'WEB_SERVICE', value: 0, threshold: 1, state: 'firing', labels: { service: 'nginx.service' } }), { value: 'not running', threshold: '-' });
});

test('other alerts: process count, CPU percentage, AGENT_DOWN silence, an absent threshold', () => {
  assert.equal(alertValue({ type: 'APP_RUNNING', value: 0, threshold: 1, state: 'firing', labels: { cmdline: '*app*' } }), { value: '0', threshold: '1' });
  assert.equal(alertValue({ type: 'CPU_HIGH', value: 100, threshold: 20 }), { value: '100.0%', threshold: '20.0%' });
  assert.equal(alertValue({ type: 'AGENT_DOWN', value: 30 }), { value: 'silent 30 s', threshold: '-' });
});

test.run();

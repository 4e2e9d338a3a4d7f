// The effective-config view by audience: no secret value in either, a viewer's URLs cut to
// scheme://host:port, file paths (of secret files too) shown; through ConfigReloader.show as well.

import { cac } from 'cac';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigReloader, loadEffective, redactConfigView, type ConfigSpec } from '../../common/config/effective.ts';
import { configKeys } from '../../common/config/keys.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

const SLACK = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXsecretXXXXXXXX';
const AM = 'http://am-user:am-pass@10.0.0.9:9093/prefix?token=tok-123&team=ops';

const view = {
  file: '/etc/hostwatch/manager.yaml',
  port: 5005,
  'auto-accept': false,
  webhook: [SLACK, 'http://127.0.0.1:8080/'],
  alertmanager: [AM],
  'webhook-secret-file': '/var/lib/hostwatch/webhook-secret',
  'webhook-secret': 'abcdefghijklmnop-the-secret',
  'api-token': 'the-api-token-value',
  labels: [{ selector: 'web-*', labels: { token: 'blue', site: 'https://intranet.example/wiki/page' } }],
};

test('admin: secret values hidden, webhook paths cut, URL passwords and token queries masked, paths and files kept', () => {
  const a = redactConfigView(view, 'admin');
  assert.is(a['webhook-secret'], '(hidden)');
  assert.is(a['api-token'], '(hidden)');
  assert.is(a['webhook-secret-file'], '/var/lib/hostwatch/webhook-secret');
  assert.equal(a.webhook, ['https://hooks.slack.com/…', 'http://127.0.0.1:8080/']);
  assert.equal(a.alertmanager, ['http://am-user:***@10.0.0.9:9093/prefix?token=***&team=ops']);
  assert.is(a.port, 5005);
  assert.is(a['auto-accept'], false);
  assert.is(a.file, view.file);
  assert.equal((a.labels as any)[0].labels.token, 'blue', 'a label named token is data, not a credential');
  const text = JSON.stringify(a);
  for (const leak of ['XXXXsecret', 'am-pass', 'tok-123', 'abcdefghijklmnop', 'the-api-token-value']) assert.not.ok(text.includes(leak), `${leak} in ${text}`);
});

test('viewer: every URL as scheme://host:port only', () => {
  const v = redactConfigView(view, 'viewer');
  assert.equal(v.webhook, ['https://hooks.slack.com:443', 'http://127.0.0.1:8080']);
  assert.equal(v.alertmanager, ['http://10.0.0.9:9093']);
  assert.is(v['webhook-secret'], '(hidden)');
  assert.is(v['webhook-secret-file'], '/var/lib/hostwatch/webhook-secret');
  assert.is((v.labels as any)[0].labels.site, 'https://intranet.example:443');
  const text = JSON.stringify(v);
  for (const leak of ['/services', 'am-user', 'prefix', 'tok-123']) assert.not.ok(text.includes(leak), `${leak} in ${text}`);
});

test('ConfigReloader.show: the admin view by default, the viewer view with redact', () => {
  const cli = cac('x');
  const cmd = cli.command('', 'serve')
    .option('--port <port>', 'port', { default: 5005 })
    .option('--webhook <url>', 'POST here (repeatable)')
    .option('--webhook-secret-file <path>', 'key');
  const keys = configKeys([...cli.globalCommand.options, ...cmd.options]);
  const spec: ConfigSpec<object> = { keys, readers: {}, build: () => ({}) };
  const dir = tempDir();
  const path = join(dir, 'm.yaml');
  writeFileSync(path, `webhook:\n  - ${SLACK}\nwebhook-secret-file: ${join(dir, 's')}\n`);
  const initial = loadEffective(spec, path, { port: 5005 }, new Set());
  const r = new ConfigReloader({ spec, path, cli: { port: 5005 }, given: new Set(), initial, reloadable: new Set(), apply: () => {} });
  assert.equal(r.show().webhook, ['https://hooks.slack.com/…']);
  assert.equal(r.show({ redact: true }).webhook, ['https://hooks.slack.com:443']);
  assert.is(r.show({ redact: true })['webhook-secret-file'], join(dir, 's'));
});

test.after(() => cleanTempDirs());
test.run();

// A silence end to end: set with the CLI against a real manager, the matching agent's rule alert is
// recorded (alerts --json, events.jsonl) but marked silenced and not notified; another agent's is
// notified; list and remove; the silence survives a manager restart.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigText } from '../../common/config/file.ts';
import { finishRules, RULE_READERS, type RulesConfig } from '../../common/rules/config.ts';
import { timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, readEvents, serveTest, testAgent } from './inproc.helper.ts';
import { cli, cliJson } from './procs.helper.ts';
import { startReceiver } from '../notify/receiver.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

test('a silence holds back notification but not the record', timed(60_000, async () => {
  const w = await startReceiver();
  closers.push(w.close);
  // Alertmanager too: the per-mount rule's mount goes out as `mountpoint`.
  const am = await startReceiver();
  closers.push(am.close);
  const s = await serveTest({ notify: { alertmanagers: [`${am.url}`], webhooks: [`${w.url}/hook`], webhookFormats: [] } });
  closers.push(s.close);
  const f = parseConfigText('rules:\n  memory_high: { metric: memory, above: 50, for: 1s }\n  disk_full: { metric: disk, above: 90, per: mount }\n', 't.yaml', [], RULE_READERS, finishRules);
  s.manager.setRules(f.sections.rules as RulesConfig);
  // What a notifier sends: every new alert the state does not say is silenced.
  const notified: string[] = [];
  s.manager.state.on('alert', (a) => { if (!s.manager.state.isSilenced(a)) notified.push(`${a.agent} ${a.type}`); });

  const bad = await cli(s.dataDir, ['silence', 'web-*']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, '--for');
  const made = await cliJson(s.dataDir, ['silence', 'web-*', '--rule', 'memory_high', '--for', '2h', '--reason', 'deploy']);
  assert.equal([made.selector, made.rule, made.reason], ['web-*', 'memory_high', 'deploy']);

  const web = drivenDeps();
  const db = drivenDeps();
  web.mem = db.mem = 80;
  agents.push(await testAgent(s, web, { name: 'web-1' }), await testAgent(s, db, { name: 'db-1' }));
  await waitFor(() => s.manager.state.alerts().length === 2, 10_000, 'both MEMORY_HIGH recorded');
  const list = await cliJson<any[]>(s.dataDir, ['alerts']);
  const byAgent = Object.fromEntries(list.map((a) => [a.agent, a]));
  assert.is(byAgent['web-1'].silenced, made.id);
  assert.is(byAgent['db-1'].silenced, undefined);
  assert.equal(notified, ['db-1 MEMORY_HIGH']);
  assert.is(readEvents(s.dataDir).filter((e) => e.event === 'alert' && e.alert.type === 'MEMORY_HIGH').length, 2, 'both in the record');
  assert.match((await cli(s.dataDir, ['alerts'])).stdout, `[silenced ${made.id}]`);
  // The webhook receives db-1's alert only, with its rule.
  await waitFor(() => w.got.length >= 1, 20_000, 'webhook delivery');
  db.mounts = [{ mount: '/srv', type: 'ext4', percent: 95 }];
  await waitFor(() => w.got.length >= 2, 20_000, 'DISK_FULL delivered');
  assert.equal(w.got.map((g) => [g.json.agent.name, g.json.alert.type, g.json.alert.rule]), [['db-1', 'MEMORY_HIGH', 'memory_high'], ['db-1', 'DISK_FULL', 'disk_full']]);
  assert.equal(w.got[1]!.json.alert.labels, { mount: '/srv' });
  const amGot = await waitFor(() => {
    const all = am.got.flatMap((g) => (Array.isArray(g.json) ? g.json : []));
    return all.find((x: any) => x.labels.alertname === 'disk_full') ?? null;
  }, 20_000, 'DISK_FULL in Alertmanager');
  assert.equal([amGot.labels.agent, amGot.labels.mountpoint, amGot.labels.severity], ['db-1', '/srv', 'warning']);
  const amNames = am.got.flatMap((g) => (Array.isArray(g.json) ? g.json : [])).map((x: any) => `${x.labels.agent} ${x.labels.alertname}`);
  assert.not.ok(amNames.includes('web-1 memory_high'), 'the silenced alert never reached Alertmanager');

  // Kept across a restart, then removed.
  await s.close();
  const again = await serveTest({ dataDir: s.dataDir });
  closers.push(again.close);
  assert.equal((await cliJson<any[]>(again.dataDir, ['silence', 'list'])).map((x) => x.id), [made.id]);
  const removed = await cliJson(again.dataDir, ['silence', 'remove', made.id]);
  assert.is(removed.id, made.id);
  assert.equal(await cliJson<any[]>(again.dataDir, ['silence', 'list']), []);
  const gone = await cli(again.dataDir, ['silence', 'remove', made.id]);
  assert.is(gone.code, 1);
  assert.match(gone.stderr, 'NOT_FOUND');
  assert.equal(readEvents(again.dataDir).filter((e) => e.event === 'silence').map((e) => e.action), ['add', 'remove']);
}));

test('--for takes a bare number as seconds, as its error message says; a bad one is BAD_ARGS, exit 2', timed(30_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const before = Date.now();
  const made = await cliJson(s.dataDir, ['silence', 'db-*', '--for', '90']);
  const left = Date.parse(made.until) - before;
  assert.ok(left >= 89_000 && left < 120_000, `until ${made.until} is 90 s on (${left} ms)`);
  const week = await cliJson(s.dataDir, ['silence', 'web-*', '--for', '1w']);
  assert.ok(Date.parse(week.until) - before >= 7 * 86_400_000 - 1000, 'w is a week');
  const bad = await cli(s.dataDir, ['silence', 'db-*', '--for', 'soon']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /^manager: --for: bad duration "soon": a number of seconds, or .* \[BAD_ARGS\]\n$/);
}));

test.run();

// Services end to end: a real manager and real Agent objects in this process whose services come
// from an injected runner answering with recorded output. systemd is not PID 1 on the machine these
// tests run on, so the systemctl JSON is a faithful sample of systemctl 252's --output=json (see
// test/actions/services.test.ts), not captured here. `manager services --failed` lists the failed
// unit; a service rule fires while the unit is failed and resolves when it runs; an agent that does
// not name `services` is refused with AGENT_TOO_OLD and is not sent the service rule; a viewer reads.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { listServices } from '../../common/actions/services.ts';
import { parseConfigText } from '../../common/config/file.ts';
import { finishRules, RULE_READERS, type RulesConfig } from '../../common/rules/config.ts';
import type { Runner } from '../../common/util/runner.ts';
import { fixture } from '../collect/fake-proc.helper.ts';
import { timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, serveTest, testAgent } from './inproc.helper.ts';
import { cli, cliJson } from './procs.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

/** systemctl answering from a fixture the test may switch. */
function systemctl(file: { name: string }): Runner {
  return async (f, args) => {
    if (f !== 'systemctl') throw new Error(`unexpected ${f}`);
    return { stdout: readFileSync(fixture(args[0] === 'show' ? 'systemctl-show-failed.txt' : file.name), 'utf8'), stderr: '', code: 0 };
  };
}

function rules(yaml: string): RulesConfig {
  const f = parseConfigText(yaml, 'test.yaml', [], RULE_READERS, finishRules);
  assert.equal(f.problems, []);
  return f.sections.rules as RulesConfig;
}

function call(port: number, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; json: any; cookie: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: body === undefined ? 'GET' : 'POST', path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text || 'null'), cookie: String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]! }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('manager services --failed lists the failed units; a viewer reads them; an old agent gets AGENT_TOO_OLD', timed(60_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const now = { name: 'systemctl-list-units-services.json' };
  agents.push(await testAgent(s, { ...drivenDeps(), services: (o) => listServices({ ...o, platform: 'linux', runner: systemctl(now) }) }, { name: 'web1' }));
  agents.push(await testAgent(s, { ...drivenDeps(), services: () => listServices({ platform: 'linux', runner: systemctl(now) }) }, { name: 'old1', services: false }));
  await waitFor(() => s.manager.state.agents().filter((a) => a.online).length === 2, 15_000, 'both online');

  const text = await cli(s.dataDir, ['services', 'web1', '--failed']);
  assert.is(text.code, 0, text.stderr);
  const lines = text.stdout.trim().split('\n');
  assert.match(lines[0]!, /^UNIT\s+ACTIVE\s+SUB\s+DESCRIPTION$/);
  assert.match(lines[1]!, /^nginx\.service\s+failed\s+failed\s+A high performance web server/);
  assert.match(lines[2]!, /^postgresql@15-main\.service\s+failed\s+failed/);
  assert.is(lines[3], 'nginx.service: exit-code, status 1, since Sun 2026-12-06 08:40:12 UTC');
  assert.is(lines[5], '2 failed of 17 services (systemctl)');
  const all = await cliJson(s.dataDir, ['services', 'web1']);
  assert.equal([all.total, all.services.length, all.services[0].name, all.services[0].result, all.services[0].exitStatus], [17, 17, 'nginx.service', 'exit-code', 1]);
  assert.is(all.services.find((x: any) => x.name === 'ssh.service').result, undefined, 'details for the failed ones only');

  const old = await cli(s.dataDir, ['services', 'old1']);
  assert.is(old.code !== 0, true);
  assert.match(old.stderr, /AGENT_TOO_OLD/);
  // Nothing was sent to it: the refusal is the manager's, before the request.
  const api = await call(s.apiPort, '/api/agents/old1/services', { authorization: `Bearer ${readFileSync(`${s.dataDir}/api-token`, 'utf8').trim()}` });
  assert.equal([api.status, api.json.error.code], [409, 'AGENT_TOO_OLD']);

  await s.dashboard.users.add('vic', 'viewer', 'viewer-password-1');
  const signIn = await call(s.apiPort, '/api/web/sign-in', {}, JSON.stringify({ username: 'vic', password: 'viewer-password-1' }));
  const viewer = await call(s.apiPort, '/api/agents/web1/services?failed=1', { cookie: signIn.cookie, 'x-csrf-token': signIn.json.csrf });
  assert.is(viewer.status, 200, JSON.stringify(viewer.json));
  assert.equal(viewer.json.services.map((x: any) => x.name), ['nginx.service', 'postgresql@15-main.service']);
  const bad = await call(s.apiPort, '/api/agents/web1/services?failed=maybe', { cookie: signIn.cookie, 'x-csrf-token': signIn.json.csrf });
  assert.equal([bad.status, bad.json.error.code], [400, 'BAD_ARGS']);
}));

test('a service rule fires while the unit is failed and resolves when it runs; an old agent is not sent it', timed(60_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  s.manager.setRules(rules('rules:\n  web_service: { metric: service, match: "nginx.service", for: 0s }\n  memory_high: { metric: memory, above: 90 }\n'));
  const now = { name: 'systemctl-list-units-services.json' };
  let reads = 0;
  const deps = { ...drivenDeps(), services: () => { reads++; return listServices({ platform: 'linux', runner: systemctl(now) }); } };
  agents.push(await testAgent(s, deps, { name: 'web2', servicesEveryMs: 200 }));
  const oldDeps = { ...drivenDeps(), services: () => listServices({ platform: 'linux', runner: systemctl(now) }) };
  const old = await testAgent(s, oldDeps, { name: 'old2', services: false, servicesEveryMs: 200 });
  agents.push(old);

  await waitFor(() => s.manager.state.alerts().some((a) => a.agent === 'web2' && a.type === 'WEB_SERVICE'), 15_000, 'WEB_SERVICE fires');
  const fired = s.manager.state.alerts().find((a) => a.type === 'WEB_SERVICE')!;
  assert.equal([fired.rule, fired.state, fired.labels, fired.value], ['web_service', 'firing', { service: 'nginx.service' }, 0]);

  now.name = 'systemctl-list-units-nginx-running.json';
  await waitFor(() => s.manager.state.alerts().some((a) => a.agent === 'web2' && a.type === 'WEB_SERVICE_RESOLVED'), 15_000, 'WEB_SERVICE_RESOLVED');
  assert.equal(s.manager.state.activeAlerts().filter((a) => a.agent === 'web2').map((a) => a.type), []);
  assert.equal(s.manager.state.alerts().filter((a) => a.rule === 'web_service').map((a) => a.type), ['WEB_SERVICE', 'WEB_SERVICE_RESOLVED'], 'once each');

  // The old agent runs the rules it understands, in sync, and never read its services.
  await waitFor(() => old.rulesVersion !== '', 10_000, 'old2 runs the manager\'s rules');
  assert.equal(old.currentRules().map((r) => r.name), ['memory_high']);
  const rec = s.manager.state.agents().find((a) => a.name === 'old2')!;
  assert.is(rec.rulesVersion, s.manager.rules.forAgent(rec)!.version);
  assert.ok(reads >= 2);
}));

test('rules only: the agent reads its services only while a service rule exists', timed(30_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  s.manager.setRules(rules('rules:\n  memory_high: { metric: memory, above: 90 }\n'));
  let reads = 0;
  const deps = Object.assign(drivenDeps(), { services: () => { reads++; return listServices({ platform: 'linux', runner: systemctl({ name: 'systemctl-list-units-services.json' }) }); } });
  agents.push(await testAgent(s, deps, { name: 'web3', servicesEveryMs: 100 }));
  await waitFor(() => s.manager.state.agents().some((a) => a.name === 'web3' && a.rulesVersion === s.manager.rules.forAgent(a)?.version), 10_000, 'in sync');
  const start = deps.samples;
  await waitFor(() => deps.samples >= start + 3, 15_000, 'three reports');
  assert.is(reads, 0);
}));

test.run();

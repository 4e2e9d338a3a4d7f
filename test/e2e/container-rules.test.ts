// Container rules against a real Docker Engine (dockerd on a private socket, see dockerd.helper.ts)
// with a real manager and a real Agent object reading it: a container stopped, one made unhealthy
// (its healthcheck's file removed), one restarted and one removed each give exactly one alert, named
// by the container, and one resolution (the removed one resolves as gone); a stopped container that
// the rule's `only` leaves out gives none. Skipped, with the reason, where dockerd cannot run.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigText } from '../../common/config/file.ts';
import { finishRules, RULE_READERS, type RulesConfig } from '../../common/rules/config.ts';
import { timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, serveTest, testAgent } from './inproc.helper.ts';
import { cli } from './procs.helper.ts';
import { dockerdMissing, importBusybox, IMAGE, startDockerd, type Dockerd } from './dockerd.helper.ts';

const test = suite('e2e/container-rules');
const missing = dockerdMissing();
let d: Dockerd | undefined;
// Registered first so dockerd is stopped before the temp folders (its data root) are removed.
test.after(async () => {
  await d?.stop();
});
const { agents, closers } = cleanupAfterEach(test);

const SLEEP = ['/bin/sh', '-c', 'echo ok > /ok; exec sleep 100000'];

test.before(async () => {
  if (missing) return;
  d = await startDockerd();
  await importBusybox(d);
  const run = (name: string, extra: string[] = []) => d!.docker(['run', '-d', '--name', name, '--network', 'none', ...extra, IMAGE, ...SLEEP]);
  await run('web-stop');
  await run('web-health', ['--health-cmd', 'test -f /ok', '--health-interval', '1s', '--health-retries', '1', '--health-timeout', '1s']);
  await run('web-restart');
  await run('web-gone');
  await d.docker(['run', '--name', 'db-once', '--network', 'none', IMAGE, '/bin/true']); // exited, and not kept by only
});

function rules(yaml: string): RulesConfig {
  const f = parseConfigText(yaml, 'test.yaml', [], RULE_READERS, finishRules);
  assert.equal(f.problems, []);
  return f.sections.rules as RulesConfig;
}

test('stopped, unhealthy, restarted and removed: one alert each, named by the container, and one resolution', timed(240_000, async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const s = await serveTest();
  closers.push(s.close);
  s.manager.setRules(rules('rules:\n  containers_down: { metric: container, only: ["web-*"], for: 1s }\n'));
  const logs: string[] = [];
  agents.push(await testAgent(s, drivenDeps(), { name: 'dock', containerEngine: { env: { DOCKER_HOST: `unix://${d!.socket}` } }, containerListEveryMs: 500, log: (l) => logs.push(l) }));
  const rec = () => s.manager.state.agents().find((a) => a.name === 'dock');
  const row = (name: string) => rec()?.containers?.find((c) => c.name === name);
  await waitFor(() => rec()?.rulesVersion === s.manager.rules.forAgent(rec()!)?.version, 15_000, 'dock runs the rules');
  await waitFor(() => row('web-health')?.health === 'healthy', 30_000, 'web-health healthy');
  const alerts = (container: string) => s.manager.state.alerts().filter((a) => a.rule === 'containers_down' && a.labels?.container === container).map((a) => a.type);
  const fired = (c: string) => waitFor(() => alerts(c).includes('CONTAINERS_DOWN'), 30_000, `${c} fires`);
  const resolved = (c: string) => waitFor(() => alerts(c).includes('CONTAINERS_DOWN_RESOLVED'), 30_000, `${c} resolves`);

  await d!.docker(['stop', '-t', '0', 'web-stop']);
  await fired('web-stop');
  await d!.docker(['start', 'web-stop']);
  await resolved('web-stop');

  await d!.docker(['exec', 'web-health', 'busybox', 'rm', '/ok']);
  await fired('web-health');
  await waitFor(() => row('web-health')?.health === 'unhealthy' && row('web-health')?.state === 'running', 10_000, 'reported running and unhealthy');
  await d!.docker(['exec', 'web-health', 'sh', '-c', 'echo ok > /ok']);
  await resolved('web-health');

  await d!.docker(['restart', '-t', '0', 'web-restart']);
  await fired('web-restart');
  await resolved('web-restart');

  await d!.docker(['stop', '-t', '0', 'web-gone']);
  await fired('web-gone');
  await d!.docker(['rm', 'web-gone']);
  await resolved('web-gone');
  assert.ok(logs.some((l) => /CONTAINERS_DOWN_RESOLVED container=web-gone: .*gone from the list: removed/.test(l)), logs.join('\n'));

  // A few more lists: nothing more comes.
  await waitFor(() => row('web-stop')?.state === 'running' && !rec()?.containers?.some((c) => c.name === 'web-gone'), 15_000, 'web-gone gone from the reports');
  const seen = rec()!.lastSeen ?? Date.now();
  await waitFor(() => (rec()?.lastSeen ?? 0) >= seen + 3_000, 15_000, 'three more seconds of reports');
  for (const c of ['web-stop', 'web-health', 'web-restart', 'web-gone']) assert.equal(alerts(c), ['CONTAINERS_DOWN', 'CONTAINERS_DOWN_RESOLVED'], c);
  assert.equal(alerts('db-once'), [], 'left out by only');
  assert.equal(s.manager.state.activeAlerts().filter((a) => a.agent === 'dock'), []);
  const text = await cli(s.dataDir, ['rules', 'dock']);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /containers_down\s+container "web-\*" not running, unhealthy or restarted for 1s \(clear for 1s\)\s+ok/);
}));

test.run();

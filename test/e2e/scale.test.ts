// A fleet past one manager, run on what users already operate (docs/operations.md): two managers,
// each with its own agents, one real Prometheus discovering both fleets through each manager's /sd,
// one real Alertmanager receiving from both. One PromQL query sees every agent of both fleets, and
// an alert from each fleet reaches the one Alertmanager.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Backoff } from '../../common/util/backoff.ts';
import { timed, waitFor } from '../harness.helper.ts';
import { startReceiver } from '../notify/receiver.helper.ts';
import { cleanupAfterEach, drivenDeps, serveTest, testAgent } from './inproc.helper.ts';
import { killDaemons, startAlertmanager, startPrometheus } from './promstack.helper.ts';

const { agents, closers } = cleanupAfterEach(test);
test.after.each(() => killDaemons());

test('two managers, one Prometheus and one Alertmanager: one query sees both fleets, alerts from both arrive', timed(120_000, async () => {
  const hook = await startReceiver();
  closers.push(hook.close);
  const am = await startAlertmanager(`${hook.url}/am`);
  closers.push(() => am.stop());
  const fleets = [];
  for (const name of ['east', 'west']) {
    const s = await serveTest({
      metrics: { host: '127.0.0.1', port: 0 },
      notify: { alertmanagers: [am.url], webhooks: [], webhookFormats: [], tuning: { backoff: () => new Backoff({ baseMs: 100, capMs: 500 }) } },
    });
    closers.push(s.close);
    const deps = [drivenDeps(), drivenDeps()];
    deps.forEach((d, i) => Object.assign(d, { mem: (name === 'east' ? 1e9 : 2e9) + i }));
    for (const [i, d] of deps.entries()) {
      const base = d.sample;
      d.sample = async () => {
        const x = await base();
        return { ...x, metrics: { ...x.metrics, memTotalBytes: 8 * 2 ** 30, memAvailableBytes: d.mem } };
      };
      agents.push(await testAgent(s, d, { name: `${name}-${i}` }));
    }
    await waitFor(() => s.manager.state.agents().filter((a) => a.online && a.metrics).length === 2, 15_000, `${name}: two agents reporting`);
    fleets.push({ name, s, deps });
  }
  const sd = fleets.map((f) => `
  - job_name: hostwatch-${f.name}
    honor_labels: true
    http_sd_configs:
      - url: http://127.0.0.1:${f.s.metricsPort}/sd
        refresh_interval: 1s
    relabel_configs:
      - target_label: manager
        replacement: ${f.name}`).join('');
  const prom = await startPrometheus(`global:
  scrape_interval: 1s
scrape_configs:${sd}
`);
  closers.push(() => prom.stop());
  // One query over both fleets: four agents up, and the memory each agent reported, summed.
  const want = fleets.flatMap((f) => f.deps.map((d) => d.mem ?? 0)).reduce((a, b) => a + b, 0);
  await waitFor(async () => {
    const up = await prom.query('count(up == 1)');
    const mem = await prom.query('sum(hostwatch_memory_available_bytes)');
    return up[0]?.value[1] === '4' && Number(mem[0]?.value[1]) === want;
  }, 60_000, 'Prometheus sees both fleets');
  const byManager = await prom.query('count by (manager) (hostwatch_memory_available_bytes)');
  assert.equal(byManager.map((r) => [r.metric.manager, r.value[1]]).sort(), [['east', '2'], ['west', '2']]);
  // An alert in each fleet: both reach the one Alertmanager.
  for (const f of fleets) f.deps[0]!.cpu = 99;
  await waitFor(async () => {
    const firing = (await am.alerts()).filter((a) => a.labels.alertname === 'cpu_high' && a.status?.state === 'active');
    return firing.map((a) => a.labels.agent).sort().join(',') === 'east-0,west-0';
  }, 30_000, 'cpu_high from both fleets in Alertmanager');
}));

test.run();

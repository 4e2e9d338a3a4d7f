// The manager's /metrics and /sd against the real Prometheus: promtool finds no problem in what a
// running manager serves; a Prometheus that discovers the agents through /sd shows one up == 1 per
// agent, and hostwatch_memory_available_bytes as `agents --json` reports it; a plain scrape of
// /metrics gives every agent at once.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Agent } from '../../common/agent/agent.ts';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMetricsListener } from '../../common/prom/listener.ts';
import { loadOrCreateIdentity } from '../../common/security/tls-identity.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cliJson } from './procs.helper.ts';
import { cleanupAfterEach, drivenDeps, serveTest, testAgent } from './inproc.helper.ts';
import { killDaemons, startPrometheus } from './promstack.helper.ts';

const { agents, closers } = cleanupAfterEach(test);
test.after.each(() => killDaemons());

/** Driven measurements plus memory the test sets. */
function memDeps(avail: number) {
  const d = Object.assign(drivenDeps(), { mem: avail });
  const base = d.sample;
  d.sample = async () => {
    const s = await base();
    return { ...s, metrics: { ...s.metrics, memTotalBytes: 16 * 2 ** 30, memAvailableBytes: d.mem } };
  };
  return d;
}

function promtool(text: string): string {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw new Error(`promtool: ${r.error.message} (apt-get install prometheus)`);
  return `${r.stdout}${r.stderr}`.trim() + (r.status ? ` (exit ${r.status})` : '');
}

test('promtool check metrics: nothing to report on a running manager\'s /metrics, whole or per agent', timed(30_000, async () => {
  const s = await serveTest({ metrics: { host: '127.0.0.1', port: 0 } });
  closers.push(s.close);
  const deps = memDeps(5e9);
  const base = deps.sample;
  // Mounts through the real wire: a mount point with a quote, a backslash and a space, escaped in the label.
  const mounts = [
    { mount: '/', type: 'ext4', size: 1e11, used: 4e10, available: 5.5e10, percent: 43 },
    { mount: '/mnt/my "disk"\\x', type: 'vfat', size: 2e9, used: 1e9, available: 1e9, percent: 50 },
  ];
  deps.sample = async () => ({ ...(await base()), mounts });
  const a = await testAgent(s, deps, { name: 'lint-me' });
  agents.push(a);
  await waitFor(() => s.manager.state.agents()[0]?.metrics, 5000, 'a report');
  deps.cpu = 99;
  await waitFor(() => s.manager.state.alerts().length === 1, 5000, 'CPU_HIGH');
  const res = await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`);
  assert.is(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  assert.match(text, /hostwatch_alerts_firing\{agent="lint-me",agent_id="[^"]+",alertname="cpu_high"\} 1/);
  assert.match(text, /hostwatch_manager_agents_connected 1/);
  assert.match(text, /hostwatch_filesystem_avail_bytes\{agent="lint-me",agent_id="[^"]+",mountpoint="\/",fstype="ext4"\} 55000000000\n/);
  assert.match(text, /hostwatch_filesystem_size_bytes\{agent="lint-me",agent_id="[^"]+",mountpoint="\/mnt\/my \\"disk\\"\\\\x",fstype="vfat"\} 2000000000\n/);
  assert.is(promtool(text), '');
  const one = await (await fetch(`http://127.0.0.1:${s.metricsPort}/metrics?agent=${encodeURIComponent(a.id)}`)).text();
  assert.match(one, 'hostwatch_memory_available_bytes{agent="lint-me"');
  assert.is(promtool(one), '');
}));

test('Prometheus discovers the agents through /sd: one up == 1 per agent, memory as `agents --json` says', timed(90_000, async () => {
  const s = await serveTest({ metrics: { host: '127.0.0.1', port: 0 } });
  closers.push(s.close);
  const fleet: { agent: Agent; deps: ReturnType<typeof memDeps> }[] = [];
  for (let i = 0; i < 3; i++) {
    const deps = memDeps(3e9 + i * 123_456_789);
    const agent = await testAgent(s, deps, { name: `node-${i}` });
    agents.push(agent);
    fleet.push({ agent, deps });
  }
  await waitFor(() => s.manager.state.agents().filter((a) => a.online && a.metrics).length === 3, 10_000, 'three agents reporting');
  const m = `127.0.0.1:${s.metricsPort}`;
  const prom = await startPrometheus(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: hostwatch-agents
    honor_labels: true
    http_sd_configs:
      - url: http://${m}/sd
        refresh_interval: 1s
    relabel_configs:
      - source_labels: [agent]
        target_label: instance
  - job_name: hostwatch-manager
    static_configs:
      - targets: ['${m}']
`);
  closers.push(() => prom.stop());
  const ids = fleet.map((f) => f.agent.id).sort();
  const up = await waitFor(async () => {
    const r = await prom.query('up{job="hostwatch-agents"}');
    return r.length === 3 && r.every((x) => x.value[1] === '1') ? r : null;
  }, 60_000, 'one up == 1 per agent');
  assert.equal(up.map((x) => x.metric.agent_id).sort(), ids);
  assert.equal(up.map((x) => x.metric.instance).sort(), ['node-0', 'node-1', 'node-2']);

  const compare = async (what: string) => {
    await waitFor(async () => {
      const json = await cliJson<any[]>(s.dataDir, ['agents']);
      const want = new Map(json.map((a) => [a.id, a.metrics.memAvailableBytes]));
      const got = await prom.query('hostwatch_memory_available_bytes{job="hostwatch-agents"}');
      if (got.length !== 3) return false;
      for (const g of got) {
        if (Number(g.value[1]) !== want.get(g.metric.agent_id)) return false;
      }
      // What each agent measured, not a value the manager made up.
      return fleet.every((f) => want.get(f.agent.id) === f.deps.mem);
    }, 30_000, `Prometheus and agents --json agree (${what})`);
  };
  await compare('first values');
  fleet.forEach((f, i) => { f.deps.mem = 7e9 - i * 1_000_003; });
  await compare('after they changed');

  // The whole-fleet scrape: every agent in one target, the manager's own series with them.
  const all = await waitFor(async () => {
    const r = await prom.query('hostwatch_agent_up{job="hostwatch-manager"}');
    return r.length === 3 ? r : null;
  }, 30_000, 'whole-fleet scrape');
  assert.equal(all.map((x) => x.metric.agent_id).sort(), ids);
  const own = await prom.query('hostwatch_manager_agents_connected{job="hostwatch-manager"}');
  assert.is(own[0]?.value[1], '3');
}));

test('Prometheus scrapes an HTTPS listener with the bearer token and the manager\'s certificate, as the README says', timed(60_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const agent = await testAgent(s, memDeps(2e9), { name: 'secure-one' });
  agents.push(agent);
  await waitFor(() => s.manager.state.agents()[0]?.metrics, 5000, 'a report');
  const dir = tempDir('hw-promtls-');
  const tls = await loadOrCreateIdentity(s.dataDir, 'manager', 'unused: made by serve already');
  const token = 't'.repeat(43);
  writeFileSync(join(dir, 'token'), token);
  writeFileSync(join(dir, 'ca.pem'), tls.cert);
  const cn = new X509Certificate(tls.cert).subject.replace(/^CN=/, '');
  const l = await startMetricsListener({ address: { host: '127.0.0.1', port: 0 }, secure: true, tls, token, source: { state: s.manager.state, figures: () => s.manager.figures() } });
  closers.push(l.close);
  const tok = join(dir, 'token');
  const ca = join(dir, 'ca.pem');
  const prom = await startPrometheus(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: hostwatch-agents
    honor_labels: true
    scheme: https
    authorization: { credentials_file: ${tok} }
    tls_config: { ca_file: ${ca}, server_name: ${cn} }
    http_sd_configs:
      - url: https://127.0.0.1:${l.port}/sd
        refresh_interval: 1s
        authorization: { credentials_file: ${tok} }
        tls_config: { ca_file: ${ca}, server_name: ${cn} }
`);
  closers.push(() => prom.stop());
  const got = await waitFor(async () => {
    const r = await prom.query('hostwatch_memory_available_bytes{job="hostwatch-agents"}');
    return r.length === 1 ? r : null;
  }, 40_000, 'scraped over HTTPS with the token').catch(async (err) => {
    const t = await (await fetch(`${prom.url}/api/v1/targets`)).text();
    throw new Error(`${(err as Error).message}; targets: ${t.slice(0, 1500)}; log: ${prom.output().slice(-1500)}`);
  });
  assert.is(got[0]!.metric.agent, 'secure-one');
  assert.is(Number(got[0]!.value[1]), 2e9);
}));

test.run();

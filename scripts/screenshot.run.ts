// `npm run screenshot`: the README's picture of the fleet page (docs/dashboard.png), taken from a
// real manager and real agents on loopback, as an administrator would see a small fleet: web
// servers, a database, a cache and a build host that is busy. The last hour of history is written
// first, so the sparklines have something to show; the agents then report live.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { Agent, type AgentDeps } from '../common/agent/agent.ts';
import { Backoff } from '../common/util/backoff.ts';
import { Allowlist } from '../common/security/allowlist.ts';
import { loadOrCreateIdentity } from '../common/security/tls-identity.ts';
import { serve } from '../common/serve/serve.ts';
import type { RulesConfig } from '../common/rules/config.ts';
import { drivenDeps } from './lib/fleet.ts';
import { cleanTempDirs, tempDir } from './lib/temp.ts';
import { waitFor } from './lib/wait.ts';

interface Host { name: string; labels: Record<string, string>; cpu: number; mem: number; disk: number; procs: number; rate: number; days: number }

const HOSTS: Host[] = [
  { name: 'web-1', labels: { role: 'web' }, cpu: 23, mem: 41, disk: 38, procs: 187, rate: 2.1e6, days: 41 },
  { name: 'web-2', labels: { role: 'web' }, cpu: 27, mem: 44, disk: 37, procs: 192, rate: 2.4e6, days: 41 },
  { name: 'web-3', labels: { role: 'web' }, cpu: 19, mem: 39, disk: 36, procs: 181, rate: 1.8e6, days: 12 },
  { name: 'db-1', labels: { role: 'db' }, cpu: 36, mem: 72, disk: 64, procs: 243, rate: 5.6e6, days: 97 },
  { name: 'cache-1', labels: { role: 'cache' }, cpu: 8, mem: 81, disk: 22, procs: 121, rate: 9.1e5, days: 97 },
  { name: 'build-1', labels: { role: 'ci' }, cpu: 94, mem: 58, disk: 77, procs: 412, rate: 3.3e5, days: 3 },
];

/** The fleet's rules, so the meters show their colours: build-1 past its CPU line, cache-1 in memory's warning band. */
const RULES: RulesConfig = {
  overrides: [],
  rules: [
    { name: 'cpu_high', metric: 'cpu', op: 'above', threshold: 80, clear: 75, for: 1, clearFor: 1 },
    { name: 'memory_high', metric: 'memory', op: 'above', threshold: 90, clear: 85, for: 120, clearFor: 120 },
    { name: 'disk_full', metric: 'disk', op: 'above', threshold: 90, clear: 85, for: 300, clearFor: 300, per: 'mount' },
  ],
};

/** A host's reading at time t: its level, a slow wave and a little noise (the same shape every run). */
function level(base: number, t: number, phase: number): number {
  const v = base * (1 + 0.18 * Math.sin(t / 600_000 + phase) + 0.06 * Math.sin(t / 47_000 + phase * 3));
  return Math.max(0, Math.min(100, Math.round(v * 10) / 10));
}

function deps(h: Host, phase: number): AgentDeps {
  const d = drivenDeps();
  const boot = Date.now() - h.days * 86_400_000;
  let rx = 4e11 * (1 + phase);
  let tx = 3e11 * (1 + phase);
  // The rates as the agent's collector gives them (from its own counters); here from the host's figure.
  d.cpuPercent = () => level(h.cpu, Date.now(), phase);
  d.sample = async () => {
    const t = Date.now();
    rx += h.rate;
    tx += h.rate * 0.7;
    return {
      at: t, metrics: {
        cpuPercent: level(h.cpu, t, phase), memPercent: level(h.mem, t, phase / 2), diskPercent: h.disk, netRxBytes: rx, netTxBytes: tx,
        uptimeSeconds: Math.round((t - boot) / 1000), processCount: h.procs + Math.round(3 * Math.sin(t / 9000 + phase)),
        netRxRate: Math.round(h.rate * (1 + 0.2 * Math.sin(t / 7000 + phase))), netTxRate: Math.round(h.rate * 0.7 * (1 + 0.2 * Math.sin(t / 5000 + phase))),
      },
    };
  };
  d.processCount = async () => ({ processCount: h.procs });
  return d;
}

async function main(): Promise<void> {
  const dataDir = tempDir('hw-shot-');
  const s = await serve({
    host: '127.0.0.1', port: 0, udpPort: 0, allow: Allowlist.parse(undefined), api: { host: '127.0.0.1', port: 0 }, apiPublic: false,
    dataDir, console: false, out: () => {}, autoAccept: true, rules: RULES,
  });
  const agents: Agent[] = [];
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const tls = await loadOrCreateIdentity(tempDir('hw-shot-id-'), 'agent', 'screenshot');
    const now = Date.now();
    for (const [i, h] of HOSTS.entries()) {
      const id = randomUUID();
      // The last hour, one sample a minute, as the store keeps it.
      for (let t = now - 3600_000; t < now - 30_000; t += 60_000) {
        s.manager.history.add(id, 60, t, {
          cpuPercent: level(h.cpu, t, i), memPercent: level(h.mem, t, i / 2), diskPercent: h.disk, netRxBytes: null, netTxBytes: null,
          uptimeSeconds: null, processCount: h.procs,
        });
      }
      const agent = new Agent({
        tls, managers: [{ host: '127.0.0.1', port: s.tcpPort }], udpPort: s.udpPort, id, name: h.name, labels: h.labels,
        stateDir: join(dataDir, `agent-${h.name}`), intervalS: 2, cpuThreshold: 80, cpuForS: 1, allowRestart: false, logFiles: [],
        backoff: new Backoff({ baseMs: 50, capMs: 500 }),
      }, deps(h, i));
      agent.start();
      agents.push(agent);
    }
    s.manager.history.flush();
    await waitFor(() => s.manager.state.agents().filter((a) => a.online && a.metrics).length === HOSTS.length, 20_000, 'every agent reporting');
    await waitFor(() => s.manager.state.activeAlerts().length > 0, 20_000, 'build-1 busy');
    await s.dashboard.users.add('admin', 'admin', 'screenshot-password');
    const page = await browser.newPage({ viewport: { width: 1280, height: 420 }, colorScheme: 'light' });
    await page.goto(`http://127.0.0.1:${s.apiPort}/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('screenshot-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('table.fleet tbody tr').nth(HOSTS.length - 1).waitFor();
    // A second report, so the rates have two points and the sparklines their live minute.
    // The sparklines' live minute follows a report or two.
    await new Promise((r) => setTimeout(r, 4500));
    await page.screenshot({ path: 'docs/dashboard.png' });
    console.log('wrote docs/dashboard.png');
  } finally {
    await browser.close();
    for (const a of agents) await a.stop();
    await s.close();
    cleanTempDirs();
  }
}

await main();

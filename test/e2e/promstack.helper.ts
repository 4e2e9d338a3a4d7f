// The real Prometheus and Alertmanager from Debian's packages (`prometheus`,
// `prometheus-alertmanager`), started on free loopback ports with their data in temp folders,
// waited for until ready, and stopped by the test (or killed after it).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Fatal, tempDir, waitFor } from '../harness.helper.ts';

const running = new Set<ChildProcess>();

/** A port the OS says is free now (for a program that takes an address flag, not port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Daemon {
  url: string;
  port: number;
  output(): string;
  stop(): Promise<void>;
}

async function startDaemon(bin: string, args: string[], port: number, what: string): Promise<Daemon> {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout!.on('data', (d) => { out = (out + d).slice(-20_000); });
  child.stderr!.on('data', (d) => { out = (out + d).slice(-20_000); });
  const exited = new Promise<void>((r) => child.on('exit', () => {
    running.delete(child);
    r();
  }));
  child.on('error', (err) => { out += `\n${bin}: ${err.message} (apt-get install prometheus prometheus-alertmanager)`; });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null || child.signalCode !== null || (child.pid === undefined && out.includes(bin))) throw new Fatal(`${what} exited: ${out.slice(-2000)}`);
    const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  }, 30_000, `${what} ready`, 100);
  return {
    url, port, output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function killDaemons(): Promise<void> {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

export interface Prometheus extends Daemon {
  /** the instant vector of a PromQL query */
  query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
}

export async function startPrometheus(config: string): Promise<Prometheus> {
  const dir = tempDir('hw-prom-');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const d = await startDaemon('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], port, 'prometheus');
  return {
    ...d,
    query: async (q) => {
      const res = await fetch(`${d.url}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
      const j = (await res.json()) as { status: string; data: { result: any[] }; error?: string };
      if (j.status !== 'success') throw new Error(`query ${q}: ${j.error}`);
      return j.data.result;
    },
  };
}

export interface Alertmanager extends Daemon {
  /** GET /api/v2/alerts: the alerts it holds (active, silenced or inhibited) */
  alerts(): Promise<any[]>;
  /** the same program again, on the same port and storage (after stop) */
  restart(): Promise<Alertmanager>;
}

/** An Alertmanager whose one receiver is a webhook at `hookUrl` (grouping fast enough for a test). */
export async function startAlertmanager(hookUrl: string, port?: number, dir = tempDir('hw-am-')): Promise<Alertmanager> {
  writeFileSync(join(dir, 'alertmanager.yml'), `route:
  receiver: hook
  group_by: ['alertname', 'agent_id']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: ${hookUrl}
        send_resolved: true
`);
  const p = port ?? (await freePort());
  const d = await startDaemon('prometheus-alertmanager', [
    `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${p}`,
    '--cluster.listen-address=', '--log.level=warn',
  ], p, 'alertmanager');
  return {
    ...d,
    alerts: async () => {
      const res = await fetch(`${d.url}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) });
      return (await res.json()) as any[];
    },
    restart: () => startAlertmanager(hookUrl, p, dir),
  };
}

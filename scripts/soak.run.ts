// Soak: a manager process and N simulated agents (this process) reporting every second for a
// while; the manager's RSS and open file count are sampled along the way and must end flat.
//   node scripts/build-dev.mjs --no-tests && node .build/scripts/soak.run.mjs [--agents 1000] [--minutes 10]

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateIdentity } from '../common/security/tls-identity.ts';
import { startFleet } from './lib/fleet.ts';

const args = process.argv.slice(2);
const flag = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const agents = flag('--agents', 1000);
const minutes = flag('--minutes', 10);
const here = dirname(fileURLToPath(import.meta.url));
const managerJs = join(here, '..', 'manager.mjs');
const dir = mkdtempSync(join(tmpdir(), 'hw-soak-'));
const say = (s: string) => console.log(`${new Date().toISOString().slice(11, 19)} soak: ${s}`);

// The history lives on disk (common/history/), so the manager's memory must not grow with it.
const mgr = spawn(process.execPath, [
  managerJs, '--host', '127.0.0.1', '--port', '0', '--udp-port', '0', '--api', '127.0.0.1:0', '--data-dir', dir, '--auto-accept',
], { stdio: 'ignore' });
let info: { tcp: string; udp: string } | undefined;
for (let i = 0; i < 200 && !info; i++) {
  await new Promise((r) => setTimeout(r, 50));
  try {
    info = JSON.parse(readFileSync(join(dir, 'manager.json'), 'utf8'));
  } catch {
    // not yet
  }
}
if (!info) throw new Error('manager did not start');
const port = (hp: string) => Number(hp.slice(hp.lastIndexOf(':') + 1));
const stat = () => {
  const status = readFileSync(`/proc/${mgr.pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
  const fds = readdirSync(`/proc/${mgr.pid}/fd`).length;
  const [ut, st] = readFileSync(`/proc/${mgr.pid}/stat`, 'utf8').split(') ')[1]!.split(' ').slice(11, 13).map(Number);
  return { rss, fds, cpuTicks: ut! + st! };
};

const tls = await loadOrCreateIdentity(dir, 'agent', 'soak');
say(`${agents} agents, ${minutes} min, manager pid ${mgr.pid}`);
const fleet = await startFleet({ count: agents, tcpPort: port(info.tcp), udpPort: port(info.udp), tls, intervalS: 1, spreadSources: true, rampMs: 5000, namePrefix: 'soak' });
const t0 = Date.now();
while (fleet.connected() < agents && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 200));
say(`${fleet.connected()} connected in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const samples: { t: number; rss: number; fds: number; cpu: number }[] = [];
const start = Date.now();
let prev = stat();
let prevT = Date.now();
const end = start + minutes * 60_000;
while (Date.now() < end) {
  await new Promise((r) => setTimeout(r, Math.min(30_000, end - Date.now())));
  const s = stat();
  const now = Date.now();
  const cpu = ((s.cpuTicks - prev.cpuTicks) / 100 / ((now - prevT) / 1000)) * 100;
  prev = s;
  prevT = now;
  samples.push({ t: (now - start) / 1000, rss: s.rss, fds: s.fds, cpu });
  say(`t=${((now - start) / 1000).toFixed(0)}s rss=${s.rss.toFixed(1)} MiB fds=${s.fds} cpu=${cpu.toFixed(1)}% connected=${fleet.connected()}`);
}
await fleet.stop();
mgr.kill('SIGTERM');
await new Promise((r) => mgr.once('exit', r));
rmSync(dir, { recursive: true, force: true });

// Flat: the last third's mean RSS within 10% of the middle third's; fds unchanged.
const third = Math.max(1, Math.floor(samples.length / 3));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const mid = mean(samples.slice(third, 2 * third).map((s) => s.rss));
const lastThird = mean(samples.slice(-third).map((s) => s.rss));
const fdsFlat = new Set(samples.map((s) => s.fds)).size <= 2;
const rssFlat = lastThird <= mid * 1.1;
say(`RSS middle third ${mid.toFixed(1)} MiB, last third ${lastThird.toFixed(1)} MiB: ${rssFlat ? 'flat' : 'GROWING'}`);
say(`open files ${samples[0]?.fds} -> ${samples.at(-1)?.fds}: ${fdsFlat ? 'flat' : 'CHANGING'}`);
process.exit(rssFlat && fdsFlat ? 0 : 1);

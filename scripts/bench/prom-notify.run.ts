// Figures for /metrics, /sd and the outbox, in this process (not a pass/fail test):
// rendering /metrics and /sd for a 10,000-agent fleet, and the outbox's rate of queued-then-
// delivered items with its disk writes. `node scripts/build-dev.mjs --no-tests &&
// node .build/scripts/bench/prom-notify.run.mjs [agents] [--json]` (`npm run bench -- --only metrics`
// runs it in a fresh process and reports it; --json prints one line of figures for that).

import { ManagerState } from '../../common/manager/state.ts';
import { FiringSet } from '../../common/notify/alert-names.ts';
import { Outbox } from '../../common/notify/outbox.ts';
import { fleetExposition, fleetExpositionSliced } from '../../common/prom/fleet-metrics.ts';
import { sdTargets } from '../../common/prom/sd.ts';
import { cleanTempDirs, tempDir } from '../lib/temp.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const n = Number(args.find((a) => !a.startsWith('--')) ?? 10_000);
const say = (line: string) => { if (!json) console.log(line); };
const s = new ManagerState();
for (let i = 0; i < n; i++) {
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  s.agentUp({ id, name: `host-${i}`, hostname: `host-${i}.lan`, address: `10.0.${i >> 8}.${i & 255}`, platform: 'linux', arch: 'x64', version: '0.1.0', interval: 5, restartAllowed: false, filesEnabled: true, trust: 'accepted', fingerprint: 'AA' });
  s.report(id, {
    cpuPercent: i % 100, memPercent: 40, diskPercent: 50, netRxBytes: 1e9 + i, netTxBytes: 5e8 + i, uptimeSeconds: 86400, processCount: 200,
    memTotalBytes: 16e9, memAvailableBytes: 8e9, diskSizeBytes: 1e11, diskAvailBytes: 5e10, load1: 0.5,
  }, [{ name: 'eth0', rxBytes: 1e9 + i, txBytes: 5e8 + i, rxRate: 1000, txRate: 500 }], Date.now());
}
const src = { state: s, figures: () => ({ agentsOnline: n }), firing: new FiringSet(s.alerts()) };
fleetExposition(src); // warm up
const runs: number[] = [];
let bytes = 0;
for (let k = 0; k < 5; k++) {
  const t = performance.now();
  bytes = Buffer.byteLength(fleetExposition(src));
  runs.push(performance.now() - t);
}
runs.sort((a, b) => a - b);
const t1 = performance.now();
const sd = JSON.stringify(sdTargets(s, '127.0.0.1:9105'));
const sdMs = performance.now() - t1;
say(`/metrics for ${n} agents: ${(bytes / 1048576).toFixed(1)} MiB, median ${runs[2]!.toFixed(0)} ms (min ${runs[0]!.toFixed(0)}, max ${runs[4]!.toFixed(0)}) to render`);
// The listener's way: the same body, yielding every 500 agents; the longest stretch without a yield.
let longest = 0;
let last = performance.now();
const tick = setInterval(() => {
  const t = performance.now();
  longest = Math.max(longest, t - last);
  last = t;
}, 1);
const t0 = performance.now();
await fleetExpositionSliced(src);
const slicedMs = performance.now() - t0;
clearInterval(tick);
say(`  sliced as the listener serves it: ${slicedMs.toFixed(0)} ms in all, the event loop blocked ${longest.toFixed(0)} ms at most`);
say(`/sd for ${n} agents: ${(sd.length / 1024).toFixed(0)} KiB in ${sdMs.toFixed(1)} ms`);

const dir = tempDir('hw-bench-outbox-');
const o = new Outbox({ dir });
const items = 20_000;
const body = { labels: { alertname: 'cpu_high', agent: 'host-1', agent_id: 'x'.repeat(36), severity: 'warning' }, annotations: { summary: 'CPU above 80% on host-1', description: 'y'.repeat(120) }, startsAt: new Date().toISOString() };
const t2 = performance.now();
for (let i = 0; i < items; i++) o.put(`k${i}`, 'am', body);
const putMs = performance.now() - t2;
const t3 = performance.now();
for (let i = 0; i < items; i++) o.remove(`k${i}`);
const rmMs = performance.now() - t3;
o.close();
const t4 = performance.now();
const again = new Outbox({ dir });
const reopenMs = performance.now() - t4;
again.close();
say(`outbox: ${items} puts in ${putMs.toFixed(0)} ms (${Math.round(items / (putMs / 1000))}/s), ${items} removes in ${rmMs.toFixed(0)} ms; reopened in ${reopenMs.toFixed(1)} ms`);
if (json) {
  console.log(JSON.stringify({
    agents: n, metricsBytes: bytes, renderMs: { median: runs[2], min: runs[0], max: runs[4] }, slicedMs, longestBlockMs: longest,
    sdBytes: sd.length, sdMs, outbox: { items, putMs, rmMs, reopenMs },
  }));
}
cleanTempDirs();

// Bounded: what one reading of the processes costs on a host with 30,000 of them (a copy of /proc
// laid out in a temporary folder: a real host that size cannot be made here cheaply), next to the
// same reading of this host's real /proc per process, and what the answers weigh; and what one
// container list costs against an engine with 2,000 containers (a fake engine on a unix socket
// answering the Engine API as Docker does), with the bounds the agent keeps.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { COST_FACTOR } from '../../common/agent/top-taker.ts';
import { COUNT_COST_FACTOR } from '../../common/collect/collector.ts';
import { countProcesses } from '../../common/collect/proc-linux.ts';
import { LinuxProcesses, MAX_TRACKED_PIDS, TOP_MAX } from '../../common/collect/procs-linux.ts';
import { ContainerEngine } from '../../common/collect/containers/engine.ts';
import { REPORT_CONTAINERS_MAX, toContainerSamples } from '../../common/collect/containers/sample.ts';
import { PROCESS_COMMAND_MAX, PROCESS_ROWS_MAX } from '../../common/wire/processes.ts';
import { hostProcesses } from './host-load.ts';
import { fmt, tempDir } from './procs.ts';
import { table, type Ctx, type Outcome, type Scenario } from './report.ts';

const PROCESSES = 30_000;
const CONTAINERS = 2_000;

/** A /proc with `n` processes (stat, io, status and a long cmdline each), uptime and btime. */
function fakeProc(n: number): string {
  const root = tempDir('hw-bench-proc-');
  writeFileSync(join(root, 'uptime'), '360000.00 100.00\n');
  writeFileSync(join(root, 'stat'), 'cpu  1 2 3 4 5 6 7 0 0 0\nbtime 1700000000\n');
  const cmd = `/usr/bin/worker --config /etc/worker/${'x'.repeat(400)}\0--verbose\0`;
  for (let pid = 1; pid <= n; pid++) {
    const dir = join(root, String(pid));
    mkdirSync(dir);
    const ticks = (pid * 7919) % 100_000;
    writeFileSync(join(dir, 'stat'), `${pid} (worker-${pid}) S 1 1 1 0 -1 4194560 100 0 0 0 ${ticks} ${ticks >> 1} 0 0 20 0 1 0 ${pid * 10} 12345678 ${(pid * 31) % 50_000} 18446744073709551615\n`);
    writeFileSync(join(dir, 'io'), `rchar: 999\nwchar: 999\nsyscr: 1\nsyscw: 1\nread_bytes: ${pid * 512}\nwrite_bytes: 0\ncancelled_write_bytes: 0\n`);
    writeFileSync(join(dir, 'status'), `Name:\tworker-${pid}\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t0\t0\t0\t0\n`);
    writeFileSync(join(dir, 'cmdline'), cmd);
  }
  return root;
}

/** ms of `fn`, and of its longest stretch without yielding (topAsync yields every 1,000 processes). */
async function timedAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; longestMs: number; value: T }> {
  let longest = 0;
  let last = performance.now();
  let running = true;
  const watch = () => {
    const t = performance.now();
    longest = Math.max(longest, t - last);
    last = t;
    if (running) setImmediate(watch);
  };
  setImmediate(watch);
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  running = false;
  longest = Math.max(longest, performance.now() - last);
  return { ms, longestMs: longest, value };
}

/** A fake engine: /_ping, the list of `n` running containers, their inspect, and an event stream that stays open. */
async function fakeEngine(n: number): Promise<{ socket: string; requests: Map<string, number>; close: () => Promise<void> }> {
  const socket = join(tempDir('hw-bench-engine-'), 'engine.sock');
  const requests = new Map<string, number>();
  const id = (i: number) => i.toString(16).padStart(64, '0');
  const list = JSON.stringify(Array.from({ length: n }, (_, i) => ({
    Id: id(i + 1), Names: [`/svc-${i}`], Image: 'registry.example/app:1.2.3', State: 'running', Status: 'Up 3 hours (healthy)',
    Labels: { 'com.example.team': 'platform', 'com.example.tier': 'web' },
  })));
  const open: import('node:http').ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!.replace(/^\/v[\d.]+/, '');
    const kind = path !== '/containers/json' && path.startsWith('/containers/') && path.endsWith('/json') ? '/containers/<id>/json' : path;
    requests.set(kind, (requests.get(kind) ?? 0) + 1);
    if (path === '/_ping') return res.end('OK');
    if (path === '/containers/json') return res.end(list);
    if (kind === '/containers/<id>/json') return res.end(JSON.stringify({ State: { Pid: 0, StartedAt: '2026-01-01T00:00:00Z', Health: { Status: 'healthy' } }, RestartCount: 0, Config: { Tty: false } }));
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      open.push(res);
      return;
    }
    res.statusCode = 404;
    res.end('{"message":"no such thing"}');
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return {
    socket, requests,
    close: async () => {
      for (const r of open) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

export const processScale: Scenario = {
  id: 'process-scale',
  title: 'Bounded at scale: 30,000 processes, 2,000 containers',
  async run(ctx: Ctx): Promise<Outcome> {
    const n = ctx.quick ? 2_000 : PROCESSES;
    const nc = ctx.quick ? 200 : CONTAINERS;
    ctx.log(`a copy of /proc with ${n} processes`);
    const root = fakeProc(n);
    const heap0 = process.memoryUsage().heapUsed;
    const p = new LinuxProcesses({ procRoot: root, pageSize: 4096 });
    const first = await timedAsync(() => p.topAsync({ n: 10, sort: 'cpu' }));
    const second = await timedAsync(() => p.topAsync({ n: 10, sort: 'cpu' }));
    const again = await timedAsync(() => p.topAsync({ n: 10, sort: 'mem', maxAgeMs: 1000 }));
    const heapKiB = (process.memoryUsage().heapUsed - heap0) / 1024;
    // The reports' process count: a listing of /proc, standing for COUNT_COST_FACTOR times its time.
    countProcesses(root);
    const c0 = performance.now();
    countProcesses(root);
    const countMs = performance.now() - c0;
    const full = p.top({ n: TOP_MAX, sort: 'cpu' });
    const answerBytes = Buffer.byteLength(JSON.stringify(full));

    // The same reading of this host's real /proc, per process.
    const real = new LinuxProcesses();
    await real.topAsync({ n: 1, sort: 'cpu' });
    const realRun = await timedAsync(() => real.topAsync({ n: 1, sort: 'cpu' }));
    const realN = realRun.value.total || hostProcesses();
    const perProcUs = (realRun.ms * 1000) / realN;

    ctx.log(`a fake engine with ${nc} containers`);
    const eng = await fakeEngine(nc);
    const e = new ContainerEngine({ env: { DOCKER_HOST: `unix://${eng.socket}` }, timeoutMs: 10_000 });
    let listMs = 0;
    let result: Awaited<ReturnType<ContainerEngine['list']>>;
    // Later lists for a report, once the event stream is open and said nothing: until one asks no inspect (5 at most).
    let steady = { ms: 0, asked: '' };
    let firstAsked = '';
    try {
      const t0 = performance.now();
      result = await e.list();
      listMs = performance.now() - t0;
      firstAsked = [...eng.requests].map(([k, v]) => `${v} x ${k}`).join(', ');
      for (let i = 0; i < 5; i++) {
        const before = new Map(eng.requests);
        const t1 = performance.now();
        await e.list({ forReport: true });
        const ms = performance.now() - t1;
        const asked = [...eng.requests].filter(([k, v]) => v > (before.get(k) ?? 0)).map(([k, v]) => `${v - (before.get(k) ?? 0)} x ${k}`);
        steady = { ms, asked: asked.length ? asked.join(', ') : 'nothing' };
        if (!asked.some((a) => a.includes('<id>'))) break;
      }
    } finally {
      e.close();
      await eng.close();
    }
    const reportBytes = Buffer.byteLength(JSON.stringify(toContainerSamples(result.containers)));

    const body = [
      `Processes: a copy of /proc in a temporary folder with ${fmt.int(n)} processes (stat, io, status and a ${'x'.length * 400 + 40}-byte command line each),`,
      'read by the agent\'s own reader (common/collect/procs-linux.ts) as the agent reads it: /proc/<pid>/stat of all of them each reading, status,',
      'cmdline and io for the rows answered. A folder on disk is not procfs (the kernel makes each /proc file at read time), so this host\'s real /proc is',
      `measured beside it: ${fmt.int(realN)} processes in ${fmt.ms(realRun.ms)}, ${perProcUs.toFixed(1)} µs a process, about ${fmt.ms((perProcUs * n) / 1000)} for ${fmt.int(n)}.`,
      '',
      ...table(['reading', 'time', 'longest stretch without yielding', 'answer'], [
        [`first (${fmt.int(first.value.total)} processes, none seen before)`, fmt.ms(first.ms), fmt.ms(first.longestMs), `${first.value.processes.length} rows`],
        ['second (CPU % as deltas)', fmt.ms(second.ms), fmt.ms(second.longestMs), `${second.value.processes.length} rows`],
        ['the history\'s second list (by memory, from the same reading)', fmt.ms(again.ms), fmt.ms(again.longestMs), `${again.value.processes.length} rows`],
      ]),
      '',
      `Memory kept between readings: about ${fmt.mib(heapKiB)} of heap for ${fmt.int(n)} processes (${((heapKiB * 1024) / n).toFixed(0)} bytes each; at most ${fmt.int(MAX_TRACKED_PIDS)} are tracked,`,
      `the rest counted and said in \`unavailable\`). The largest answer (\`top -n ${TOP_MAX}\`) is ${fmt.int(answerBytes)} bytes; the history keeps at most`,
      `${PROCESS_ROWS_MAX} rows a list, command lines cut to ${PROCESS_COMMAND_MAX} characters, whatever the host. Bounds in time: the history of who is`,
      `taken at most every ${COST_FACTOR} times what its reading took (here every ${Math.max(60, Math.round(((second.ms + again.ms) * COST_FACTOR) / 1000))} s instead of 60 s: at most 0.2% of a core), and a`,
      `report's process count (a listing of /proc, ${fmt.ms(countMs)} here) stands for ${COUNT_COST_FACTOR} times what it took (here ${Math.max(5, Math.round((countMs * COUNT_COST_FACTOR) / 1000))} s; at least 5 s).`,
      '',
      `Containers: one list against an engine with ${fmt.int(nc)} running containers took ${fmt.ms(listMs)} and asked the engine ${firstAsked}.`,
      `It answered ${result.containers.length} rows of ${result.total} (at most 1,000 a list), inspected ${result.containers.length - result.notInspected} (at most 200 a list: health, restarts, the`,
      `process whose cgroup holds the usage), and a report carries ${Math.min(REPORT_CONTAINERS_MAX, result.containers.length)} of them (${fmt.int(reportBytes)} bytes of JSON): the busiest running ones.`,
      `A later list for a report, with the event stream open and nothing changed: ${fmt.ms(steady.ms)}, asking the engine ${steady.asked} (usage from the`,
      'cgroup files; the engine\'s list is asked again after an event, or once a minute).',
      '',
    ];
    return {
      body,
      goals: [{
        goal: `a reading of ${fmt.int(PROCESSES)} processes and a list of ${fmt.int(CONTAINERS)} containers cost a bounded, stated amount`,
        figure: `${fmt.ms(second.ms)} a reading of ${fmt.int(n)} (copy of /proc), longest block ${fmt.ms(second.longestMs)}; ${fmt.ms(listMs)} a first list of ${fmt.int(nc)} (${result.containers.length - result.notInspected} inspected), ${fmt.ms(steady.ms)} a later one (engine asked ${steady.asked})`,
        met: null,
      }],
      commands: [],
    };
  },
};

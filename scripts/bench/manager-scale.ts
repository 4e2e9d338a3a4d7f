// Manager scale: 1,000, 5,000 and 10,000 simulated agents (real protocol, TLS, from separate
// simulator processes, each agent from its own 127.10.x.y) reporting once a second. Measures the
// manager's CPU and RSS, the reports it ingested a second, and `status` round trips through the
// control API while it is loaded.
//
// Reports ingested are counted without any change to the manager: after the window every agent's
// history (GET /api/agents/<id>/history?since=) is read and the samples taken inside the window
// counted; the simulators count the reports they took, so the two can be compared.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CpuMeter, MachineMeter, rssKiB, hwmKiB } from './proc-stats.ts';
import { BUILD, fmt, NOFILE, nofileLimit, quantile, sleep, SIM_JS, spawnNode, startManager, tempDir, type ManagerProc, type Proc } from './procs.ts';
import { monoUs, newestProfile, profileMarkdown, summarize } from './profile.ts';
import { table, type Ctx, type Goal, type Outcome, type Scenario } from './report.ts';

const P99_GOAL_MS = 100;
/** The manager's RSS per agent at 10,000 agents (its whole RSS over the agents: the stricter reading). */
const RSS_PER_AGENT_GOAL_KIB = 40;
/** Agents per simulator process: one Node process cannot drive many more TLS agents a second. */
const PER_SIM = 5000;

interface SimProc extends Proc {
  count: number;
  last: { t: number; connected: number; samples: number };
  /** status lines by time, to read the samples count at a given moment */
  history: { t: number; samples: number }[];
}

function startSim(mgr: ManagerProc, count: number, prefix: string, rampMs: number, maxMs: number): SimProc {
  const sim = { count, last: { t: 0, connected: 0, samples: 0 }, history: [] as { t: number; samples: number }[] } as unknown as SimProc;
  const p = spawnNode(SIM_JS, ['--count', String(count), '--port', String(mgr.tcpPort), '--udp-port', String(mgr.udpPort), '--prefix', prefix, '--ramp-ms', String(rampMs), '--max-ms', String(maxMs)], {
    nofile: NOFILE,
    onLine: (line) => {
      try {
        const v = JSON.parse(line);
        sim.last = v;
        sim.history.push({ t: v.t, samples: v.samples });
        if (sim.history.length > 3600) sim.history.shift();
      } catch {
        // not a status line
      }
    },
  });
  return Object.assign(sim, p);
}

/** The simulator's sample count at time t (ms since epoch), interpolated between its lines. */
function samplesAt(sim: SimProc, t: number): number {
  const h = sim.history;
  for (let i = 1; i < h.length; i++) {
    if (h[i]!.t >= t) {
      const a = h[i - 1]!;
      const b = h[i]!;
      return a.samples + ((b.samples - a.samples) * (t - a.t)) / Math.max(1, b.t - a.t);
    }
  }
  return h.length ? h[h.length - 1]!.samples : 0;
}

/** The manager's memory as the kernel and V8 see it: RSS split into anonymous and file pages. */
interface Memory {
  rssKiB: number;
  anonKiB: number;
  fileKiB: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

function smapsRollup(pid: number): { rssKiB: number; anonKiB: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKiB: kib('Rss'), anonKiB: kib('Anonymous') };
}

async function memoryOf(mgr: ManagerProc): Promise<Memory> {
  const s = await mgr.api.json<any>('GET', '/api/stats');
  const r = smapsRollup(mgr.pid) ?? { rssKiB: (s.rssBytes as number) / 1024, anonKiB: NaN };
  return {
    rssKiB: r.rssKiB, anonKiB: r.anonKiB, fileKiB: r.rssKiB - r.anonKiB,
    heapUsed: s.heapUsedBytes ?? NaN, heapTotal: s.heapTotalBytes ?? NaN, external: s.externalBytes ?? NaN, arrayBuffers: s.arrayBuffersBytes ?? NaN,
  };
}

/** What the manager recorded in its events.jsonl during the step: connects, drops and why, refusals. */
function eventCounts(dataDir: string): { summary: string; agentDown: number; disconnects: number } {
  const counts = new Map<string, number>();
  let agentDown = 0;
  let disconnects = 0;
  let text = '';
  try {
    text = readFileSync(join(dataDir, 'events.jsonl'), 'utf8');
  } catch {
    return { summary: 'no events.jsonl', agentDown, disconnects };
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    let e: any;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    let k = e.event as string;
    if (e.event === 'disconnect') {
      k = `disconnect ${e.reason}`;
      disconnects++;
    } else if (e.event === 'refused' || e.event === 'protocol-error') k = `${e.event} ${e.code}`;
    else if (e.event === 'alert') {
      k = `alert ${e.alert?.type}`;
      if (e.alert?.type === 'AGENT_DOWN') agentDown++;
    }
    if (k === 'start' || k === 'stop' || k === 'command') continue;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  let agentsJson = 0;
  try {
    agentsJson = statSync(join(dataDir, 'agents.json')).size;
  } catch {
    // none
  }
  const summary = [...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmt.int(v)}`).join(', ') + `; agents.json ${(agentsJson / 1e6).toFixed(1)} MB`;
  return { summary, agentDown, disconnects };
}

interface Step {
  n: number;
  sims: number;
  connected: number;
  rampS: number;
  windowS: number;
  mgrCpu: number;
  simCpu: number;
  machineCpu: number;
  mgrRssKiB: number;
  mgrHwmKiB: number;
  sent: number;
  ingested: number;
  ageP50: number;
  ageP99: number;
  status: number[];
  events: string;
  /** why not every agent was connected when the window began */
  stalled: string;
  maxConnected: number;
  statusErrors: number;
  statusLastError: string;
  /** the manager before any agent connected, and at the end of the window */
  idle: Memory;
  mem: Memory;
  profile?: string[];
}

async function runStep(ctx: Ctx, n: number, o: { windowS: number; profile: boolean; connectLimitMs?: number }): Promise<Step> {
  const simCount = Math.ceil(n / PER_SIM);
  // About 200 new TLS connections a second in all (the manager allows 256 in their handshake); then
  // time for those refused to come back (backoff up to 30 s) and for a manager that admits slowly.
  const rampMs = Math.max(1000, Math.round((n / 200) * 1000));
  const connectLimitMs = o.connectLimitMs ?? rampMs + 60_000 + n * 30;
  const profDir = o.profile ? tempDir('hw-bench-prof-') : undefined;
  const mgr = await startManager({ nofile: NOFILE, ...(profDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] } : {}) });
  const sims: SimProc[] = [];
  try {
    await sleep(2000); // start-up behind it: the idle manager's memory is the baseline
    const idle = await memoryOf(mgr);
    const t0 = Date.now();
    for (let i = 0; i < simCount; i++) {
      const count = Math.min(PER_SIM, n - i * PER_SIM);
      sims.push(startSim(mgr, count, `s${i}`, rampMs, connectLimitMs + o.windowS * 1000 + 300_000));
    }
    const connected = () => sims.reduce((a, s) => a + s.last.connected, 0);
    let stalled = '';
    let lastLog = 0;
    // Give up early when the count has not passed its best for this long after the ramp: the
    // manager is not going to get there (it drops agents as fast as they come).
    const stallMs = 90_000;
    let best = 0;
    let bestAt = Date.now();
    for (;;) {
      for (const s of sims) if (s.child.exitCode !== null) throw new Error(`simulator exited: ${s.output().slice(-500)}`);
      const now = Date.now();
      if (connected() > best) {
        best = connected();
        bestAt = now;
      }
      if (connected() >= n) break;
      if (now - lastLog > 10_000) {
        lastLog = now;
        ctx.log(`  ${n} agents: ${connected()} connected after ${((now - t0) / 1000).toFixed(0)} s`);
      }
      const why = now - t0 > connectLimitMs ? `not all connected within ${(connectLimitMs / 1000).toFixed(0)} s`
        : now - t0 > rampMs && now - bestAt > stallMs ? `no new high for ${stallMs / 1000} s` : '';
      if (why) {
        if (best === 0) throw new Error(`no agent connected: ${why}`);
        stalled = `only ${fmt.int(connected())} of ${fmt.int(n)} connected after ${((now - t0) / 1000).toFixed(0)} s, at most ${fmt.int(best)} at once (${why})`;
        ctx.log(`  ${stalled}; measuring anyway`);
        break;
      }
      await sleep(250);
    }
    const rampS = (Date.now() - t0) / 1000;
    await sleep(5000); // the first reports and the connection burst are behind us

    const names = (await mgr.api.json<any[]>('GET', '/api/agents')).filter((a) => a.online).map((a) => a.name as string);
    const mgrMeter = new CpuMeter(mgr.pid).start();
    const simMeters = sims.map((s) => new CpuMeter(s.pid).start());
    const machine = new MachineMeter().start();
    const startEpoch = Date.now();
    const fromUs = monoUs();
    let rssMax = 0;
    const status: number[] = [];
    let statusErrors = 0;
    let statusLastError = '';
    const end = performance.now() + o.windowS * 1000;
    let nextRss = 0;
    // `status` one after another, a tenth of a second apart, to random agents by name (as a user types it).
    for (let i = 0; performance.now() < end && i < o.windowS * 20; i++) {
      if (performance.now() >= nextRss) {
        rssMax = Math.max(rssMax, rssKiB(mgr.pid) ?? 0);
        nextRss = performance.now() + 1000;
      }
      const name = names[Math.floor(Math.random() * names.length)]!;
      try {
        const r = await mgr.api.call('POST', `/api/agents/${name}/status`, {}, 30_000);
        if (r.status === 200) status.push(r.ms);
        else {
          statusErrors++;
          statusLastError = `HTTP ${r.status} ${r.body.slice(0, 120)}`;
        }
      } catch (err) {
        statusErrors++;
        statusLastError = (err as Error).message;
      }
      const wait = Math.min(100, end - performance.now());
      if (wait > 0) await sleep(wait);
    }
    const endEpoch = Date.now();
    const toUs = monoUs();
    const mgrCpu = mgrMeter.read();
    const simCpu = simMeters.reduce((a, m) => a + m.read().percent, 0);
    const machineCpu = machine.read();
    rssMax = Math.max(rssMax, rssKiB(mgr.pid) ?? 0);
    const mgrHwm = hwmKiB(mgr.pid) ?? 0;
    const mem = await memoryOf(mgr);
    await sleep(1500); // the simulators' next status line covers the window's end
    const sent = sims.reduce((a, s) => a + samplesAt(s, endEpoch) - samplesAt(s, startEpoch), 0);

    // Count what the manager took in: samples dated inside the window, from every agent's history.
    const list = await mgr.api.json<any[]>('GET', '/api/agents');
    let ingested = 0;
    const ages: number[] = [];
    const queue = list.map((a) => a as { id: string });
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let a = queue.pop(); a; a = queue.pop()) {
        const asked = Date.now();
        const h = await mgr.api.json<any>('GET', `/api/agents/${encodeURIComponent(a.id)}/history?since=${startEpoch}`);
        let newest = 0;
        for (const p of h.points as { at: string }[]) {
          const at = Date.parse(p.at);
          if (at >= startEpoch && at < endEpoch) ingested++;
          newest = Math.max(newest, at);
        }
        // How old the newest report the manager has is: under a second when it keeps up with one a second.
        if (newest) ages.push(asked - newest);
      }
    }));
    const windowS = (endEpoch - startEpoch) / 1000;
    const step: Step = {
      n, sims: simCount, connected: connected(), rampS, windowS, mgrCpu: mgrCpu.percent, simCpu, machineCpu,
      mgrRssKiB: rssMax, mgrHwmKiB: mgrHwm, sent, ingested, ageP50: quantile(ages, 0.5), ageP99: quantile(ages, 0.99),
      status, statusErrors, statusLastError, events: eventCounts(mgr.dataDir).summary, stalled, maxConnected: best, idle, mem,
    };
    if (profDir) {
      await mgr.kill('SIGTERM', 30_000);
      const file = newestProfile(profDir);
      if (file) step.profile = profileMarkdown(`Profile of the manager with ${n} agents over the ${windowS.toFixed(0)} s window (\`node --cpu-prof\`, a separate run)`, summarize(file, fromUs, toUs));
    }
    return step;
  } finally {
    await Promise.all(sims.map((s) => s.kill('SIGTERM', 15_000)));
    await mgr.kill('SIGTERM', 30_000);
    mgr.api.close();
  }
}

/**
 * The same number of TLS connections on a bare Node TLS server (tls-floor.run.ts): the manager's
 * TLS settings, no protocol, a report-sized record a second from each. Its RSS per connection is
 * what Node and OpenSSL cost before any of ours.
 */
async function tlsFloor(ctx: Ctx, n: number): Promise<{ n: number; idle: { rssKiB: number; anonKiB: number }; full: { rssKiB: number; anonKiB: number }; connected: number }> {
  const js = join(BUILD, 'scripts', 'bench', 'tls-floor.run.mjs');
  let port = 0;
  let connections = 0;
  const server = spawnNode(js, ['--role', 'server'], {
    nofile: NOFILE,
    onLine: (l) => {
      try {
        const v = JSON.parse(l);
        if (v.port) port = v.port;
        if (typeof v.connections === 'number') connections = v.connections;
      } catch {
        // not a status line
      }
    },
  });
  const clients: Proc[] = [];
  try {
    const t0 = Date.now();
    while (!port) {
      if (server.child.exitCode !== null || Date.now() - t0 > 20_000) throw new Error(`tls floor server did not start: ${server.output().slice(-300)}`);
      await sleep(100);
    }
    await sleep(2000);
    const idle = smapsRollup(server.pid) ?? { rssKiB: NaN, anonKiB: NaN };
    const rampMs = Math.max(1000, Math.round((n / 200) * 1000));
    for (let i = 0; i * PER_SIM < n; i++) {
      clients.push(spawnNode(js, ['--role', 'client', '--port', String(port), '--count', String(Math.min(PER_SIM, n - i * PER_SIM)), '--offset', String(i * PER_SIM), '--ramp-ms', String(rampMs)], { nofile: NOFILE }));
    }
    const limit = Date.now() + rampMs + 60_000;
    while (connections < n && Date.now() < limit) await sleep(500);
    if (connections < n) ctx.log(`  tls floor: only ${connections} of ${n} connected`);
    await sleep(15_000); // a quarter of a minute of records, as the manager's window follows its ramp
    const full = smapsRollup(server.pid) ?? { rssKiB: NaN, anonKiB: NaN };
    return { n, idle, full, connected: connections };
  } finally {
    await Promise.all(clients.map((c) => c.kill('SIGTERM', 10_000)));
    await server.kill('SIGTERM', 10_000);
  }
}

export const managerScale: Scenario = {
  id: 'manager-scale',
  title: 'Manager scale',
  async run(ctx: Ctx): Promise<Outcome> {
    // HOSTWATCH_BENCH_SIZES=1000,5000 overrides the sizes (for trying things out).
    const sizes = process.env.HOSTWATCH_BENCH_SIZES?.split(',').map(Number).filter((v) => v > 0) ?? (ctx.quick ? [200] : [1000, 5000, 10_000]);
    const windowS = ctx.quick ? 5 : 30;
    const steps: Step[] = [];
    for (const n of sizes) {
      ctx.log(`manager scale: ${n} agents`);
      steps.push(await runStep(ctx, n, { windowS, profile: false }));
    }
    const goals: Goal[] = [];
    const big = steps.find((s) => s.n === 10_000);
    const p99 = (s: Step) => quantile(s.status, 0.99);
    const keptUp = (s: Step) => s.ingested >= s.connected * s.windowS * 0.95;
    goals.push({
      goal: `10,000 simulated agents on this 2-core machine with \`status\` p99 under ${P99_GOAL_MS} ms`,
      figure: big ? `${big.connected} connected, p99 ${fmt.ms(p99(big))}, ${fmt.int(big.ingested / big.windowS)} reports/s ingested of ${fmt.int(big.sent / big.windowS)} sent` : 'not run (quick mode)',
      met: big ? big.connected === 10_000 && p99(big) < P99_GOAL_MS && keptUp(big) && big.statusErrors === 0 : null,
    });
    // Memory per agent, both readings: the whole RSS over the agents (the idle manager's share
    // included; what the goal judges) and the marginal cost between the smallest and largest size.
    const perAgentKiB = (s: Step) => s.mgrRssKiB / Math.max(1, s.connected);
    const small = steps[0];
    const marginalKiB = (s: Step) => (small && s !== small ? (s.mgrRssKiB - small.mgrRssKiB) / Math.max(1, s.connected - small.connected) : NaN);
    goals.push({
      goal: `manager RSS per agent at 10,000 agents under ${RSS_PER_AGENT_GOAL_KIB} KiB (its whole RSS over the agents)`,
      figure: big ? `${perAgentKiB(big).toFixed(1)} KiB per agent (RSS ${fmt.mib(big.mgrRssKiB)}, idle ${fmt.mib(big.idle.rssKiB)})${Number.isFinite(marginalKiB(big)) ? `; marginal ${marginalKiB(big).toFixed(1)} KiB per agent from ${fmt.int(small!.connected)} to ${fmt.int(big.connected)}` : ''}` : 'not run (quick mode)',
      met: big ? big.connected === 10_000 && perAgentKiB(big) < RSS_PER_AGENT_GOAL_KIB : null,
    });
    // The floor under it, at the largest size: what a bare Node TLS server holds per connection.
    const biggest = steps[steps.length - 1];
    let floor: Awaited<ReturnType<typeof tlsFloor>> | undefined;
    if (biggest && !ctx.quick) {
      ctx.log(`manager scale: bare TLS server with ${biggest.n} connections`);
      try {
        floor = await tlsFloor(ctx, biggest.n);
      } catch (err) {
        ctx.log(`  tls floor failed: ${(err as Error).message}`);
      }
    }
    // Where the goal is missed, a profiled pass at the size that missed it.
    const missed = steps.filter((s) => s.n >= 1000 && !(p99(s) < P99_GOAL_MS && keptUp(s) && s.statusErrors === 0));
    let profile: string[] = [];
    if (ctx.profile && missed.length) {
      const n = missed[missed.length - 1]!.n;
      ctx.log(`manager scale: profiled pass at ${n} agents`);
      const s = await runStep(ctx, n, { windowS: 20, profile: true, connectLimitMs: 180_000 });
      profile = s.profile ?? [];
    }
    const body = [
      `Each size: a fresh manager (\`--auto-accept\`, fresh data folder), simulators in separate processes (${PER_SIM} agents each at most,`,
      'every agent its own TLS connection from its own 127.10.x.y, one report a second, no UDP), connections ramped at about 200 a second;',
      `Open files for the manager and the simulators: ${nofileLimit().note}. Once all are connected and 5 s have passed, a ${windowS} s window. During it \`POST /api/agents/<name>/status\` is asked one after`,
      'another, 0.1 s apart, of random agents by name (the simulated agent answers at once, so this is the manager\'s and the wire\'s time).',
      'CPU in % of one core (up to 200% on 2 cores), children included. "Machine" is every process on it, the simulators and the bench',
      'included; other people\'s work on the machine shows as machine minus manager minus simulators. Reports ingested: samples dated',
      'inside the window found in the agents\' histories afterwards; sent: reports the simulators took in the window. Newest report\'s',
      'age: when each agent\'s history is read after the window, how long ago its newest report was taken (under 1 s when the manager keeps up).',
      '',
      ...table(['agents', 'connected', 'connect time', 'manager CPU', 'manager RSS (max / peak)', 'simulators CPU', 'machine CPU', 'reports/s sent', 'reports/s ingested', 'newest report\'s age p50 / p99', 'status p50', 'status p99', 'status n (errors)'],
        steps.map((s) => [
          fmt.int(s.n), fmt.int(s.connected), `${s.rampS.toFixed(0)} s`, fmt.pct(s.mgrCpu, 1), `${fmt.mib(s.mgrRssKiB)} / ${fmt.mib(s.mgrHwmKiB)}`,
          `${fmt.pct(s.simCpu, 1)} (${s.sims} proc)`, fmt.pct(s.machineCpu, 1), fmt.int(s.sent / s.windowS), `${fmt.int(s.ingested / s.windowS)} (${((s.ingested / Math.max(1, s.sent)) * 100).toFixed(1)}%)`,
          `${fmt.ms(s.ageP50)} / ${fmt.ms(s.ageP99)}`, fmt.ms(quantile(s.status, 0.5)), fmt.ms(p99(s)), `${s.status.length} (${s.statusErrors}${s.statusLastError ? `: ${s.statusLastError}` : ''})`,
        ])),
      '',
      'The manager\'s memory: RSS is the largest seen during the window (sampled once a second); the split into anonymous and',
      'file-backed pages (/proc/<pid>/smaps_rollup) and V8\'s figures (`process.memoryUsage()` via /api/stats) are from the window\'s end.',
      'Per agent: RSS over the agents connected; marginal: the RSS added over the agents added since the smallest size.',
      '',
      ...table(['agents', 'RSS', 'anonymous / file', 'V8 heap used / total', 'external (of it array buffers)', 'RSS per agent', 'marginal per agent', 'idle manager RSS (anonymous)'],
        steps.map((s) => [
          fmt.int(s.connected), fmt.mib(s.mgrRssKiB), `${fmt.mib(s.mem.anonKiB)} / ${fmt.mib(s.mem.fileKiB)}`,
          `${fmt.mib(s.mem.heapUsed / 1024)} / ${fmt.mib(s.mem.heapTotal / 1024)}`, `${fmt.mib(s.mem.external / 1024)} (${fmt.mib(s.mem.arrayBuffers / 1024)})`,
          `${perAgentKiB(s).toFixed(1)} KiB`, Number.isFinite(marginalKiB(s)) ? `${marginalKiB(s).toFixed(1)} KiB` : '', `${fmt.mib(s.idle.rssKiB)} (${fmt.mib(s.idle.anonKiB)})`,
        ])),
      '',
      ...(floor ? [
        `The floor: a bare Node TLS server (\`scripts/bench/tls-floor.run.ts\`: the manager's TLS settings, TLS 1.3, client certificate asked for,`,
        `no session tickets; no protocol) with ${fmt.int(floor.connected)} connections from separate client processes, each sending 700 bytes a second:`,
        `RSS ${fmt.mib(floor.full.rssKiB)} (anonymous ${fmt.mib(floor.full.anonKiB)}), idle ${fmt.mib(floor.idle.rssKiB)}; ${(floor.full.rssKiB / Math.max(1, floor.connected)).toFixed(1)} KiB per connection in all,`,
        `${((floor.full.rssKiB - floor.idle.rssKiB) / Math.max(1, floor.connected)).toFixed(1)} KiB per connection over its idle RSS. This is what Node and OpenSSL hold per connection before any of the manager's code.`,
        '',
      ] : []),
      ...steps.filter((s) => s.stalled).map((s) => `**${fmt.int(s.n)} agents: ${s.stalled}.** The window was measured with those connected.`),
      '',
      'What each manager recorded (events.jsonl) from its start to the end of the window, ramp included:',
      '',
      ...steps.map((s) => `- ${fmt.int(s.n)} agents: ${s.events}`),
      '',
      ...(steps.length > 1 ? [`Manager CPU per 1,000 agents: ${steps.map((s) => `${fmt.pct((s.mgrCpu / s.n) * 1000, 1)} at ${fmt.int(s.n)}`).join(', ')}.`, ''] : []),
      ...profile,
    ];
    return {
      body, goals,
      commands: [
        `${nofileLimit().how === 'prlimit' ? `prlimit --nofile=${nofileLimit().limit}:${nofileLimit().limit} -- ` : ''}node .build/manager.mjs --host 127.0.0.1 --port 0 --udp-port 0 --api 127.0.0.1:0 --data-dir <tmp> --auto-accept --no-console`,
        `${nofileLimit().how === 'prlimit' ? `prlimit --nofile=${nofileLimit().limit}:${nofileLimit().limit} -- ` : ''}node .build/scripts/bench/sim.run.mjs --count <n> --port <tcp> --udp-port <udp> --prefix s<i> --ramp-ms <ms>`,
        'POST /api/agents/<name>/status (authorization: Bearer <api-token>), GET /api/agents, GET /api/agents/<id>/history?since=<ms>',
      ],
    };
  },
};

// Executables: the single-file programs in dist/ (npm run build): size, time to `--version`, and
// idle RSS, against the bare Node 22 they are made of. The full run builds them first; the quick
// run uses dist/ as it is and skips when it is missing.

import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { rssKiB } from './proc-stats.ts';
import { fmt, quantile, ROOT, sleep, spawnProc, startManager, startSettledAgent } from './procs.ts';
import { table, type Ctx, type Goal, type Outcome, type Scenario } from './report.ts';

const DIST = join(ROOT, 'dist');
/** The official Node 22 binary the executables are made of, as scripts/build.mjs caches it. */
const NODE22 = join(ROOT, 'node_modules/.cache/hostwatch-node/home/.pkg-cache/sea/node-v22.23.3-linux-x64/bin/node');

async function gzipSize(file: string): Promise<number> {
  let n = 0;
  const gz = createGzip({ level: 6 });
  gz.on('data', (c: Buffer) => { n += c.length; });
  const done = new Promise<void>((r, j) => { gz.on('end', () => r()); gz.on('error', j); });
  createReadStream(file).pipe(gz);
  await done;
  return n;
}

/** Median wall time of `runs` runs of a command, ms. */
function timeRuns(cmd: string, args: string[], runs: number): { ms: number; out: string; ok: boolean } {
  const times: number[] = [];
  let out = '';
  let ok = true;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, cwd: '/' });
    times.push(performance.now() - t0);
    out = (r.stdout || r.stderr || '').trim().split('\n')[0] ?? '';
    ok &&= r.status === 0;
  }
  return { ms: quantile(times, 0.5), out, ok };
}

/** RSS of a process left idle for `ms`. */
async function idleRss(cmd: string, args: string[], ms: number): Promise<number> {
  const p = spawnProc(cmd, args);
  try {
    await sleep(ms);
    if (p.child.exitCode !== null) throw new Error(`${cmd} exited: ${p.output()}`);
    return rssKiB(p.pid) ?? 0;
  } finally {
    await p.kill('SIGTERM', 3000);
  }
}

export const executables: Scenario = {
  id: 'executables',
  title: 'Executables',
  async run(ctx: Ctx): Promise<Outcome> {
    const commands: string[] = [];
    let buildNote = 'dist/ as it was (not rebuilt in quick mode)';
    if (!ctx.quick) {
      ctx.log('npm run build (the executables)');
      const t0 = performance.now();
      const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 900_000 });
      buildNote = b.status === 0 ? `built now with \`npm run build\` in ${((performance.now() - t0) / 1000).toFixed(0)} s`
        : `\`npm run build\` FAILED (exit ${b.status}: ${(b.stderr || b.stdout).trim().split('\n').pop()}); dist/ as it was`;
      commands.push('npm run build');
    }
    const agentExe = join(DIST, 'agent-linux-x64');
    const managerExe = join(DIST, 'manager-linux-x64');
    if (!existsSync(agentExe) || !existsSync(managerExe)) {
      return { body: [`No executables in dist/ (${buildNote}): run \`npm run build\` first.`], goals: [], commands, skipped: 'dist/ has no executables (run `npm run build`)' };
    }
    const runs = ctx.quick ? 3 : 10;
    const node22 = existsSync(NODE22) ? NODE22 : null;

    const files = ['agent-linux-x64', 'manager-linux-x64', 'agent-win-x64.exe', 'manager-win-x64.exe'].filter((f) => existsSync(join(DIST, f)));
    const sizes: (string | number)[][] = [];
    for (const f of files) {
      const size = statSync(join(DIST, f)).size;
      const gz = ctx.quick ? null : await gzipSize(join(DIST, f));
      sizes.push([f, `${(size / 1e6).toFixed(1)} MB`, gz === null ? '-' : `${(gz / 1e6).toFixed(1)} MB`]);
    }
    if (node22) sizes.push(['bare Node 22 (stripped, as injected)', `${(statSync(node22).size / 1e6).toFixed(1)} MB`, '-']);

    const starts: (string | number)[][] = [];
    for (const [label, cmd, args] of [
      ['`agent-linux-x64 --version`', agentExe, ['--version']],
      ['`manager-linux-x64 --version`', managerExe, ['--version']],
      ...(node22 ? [['bare Node 22 `-e 0`', node22, ['-e', '0']]] : []),
      ['dev bundle `node .build/agent.mjs --version` (Node ' + process.version + ')', process.execPath, [join(ROOT, '.build', 'agent.mjs'), '--version']],
      ['bare Node ' + process.version + ' `-e 0`', process.execPath, ['-e', '0']],
    ] as [string, string, string[]][]) {
      const r = timeRuns(cmd, args, runs);
      starts.push([label, fmt.ms(r.ms), r.ok ? r.out : `FAILED: ${r.out}`]);
    }

    // Idle RSS: the agent executable connected to a manager and reporting, the manager executable
    // serving with no agent, bare Node 22 doing nothing.
    const settle = ctx.quick ? 2000 : 10_000;
    const mgr = await startManager({ exe: managerExe });
    let agentRss = 0;
    let mgrRss = 0;
    try {
      const a = await startSettledAgent(mgr, 'exe-agent', [], { exe: agentExe });
      try {
        await sleep(settle);
        agentRss = rssKiB(a.pid) ?? 0;
        mgrRss = rssKiB(mgr.pid) ?? 0;
      } finally {
        await a.kill('SIGTERM');
      }
    } finally {
      await mgr.kill('SIGTERM');
      mgr.api.close();
    }
    const bare22 = node22 ? await idleRss(node22, ['-e', 'setInterval(() => {}, 1 << 30)'], settle) : 0;
    const body = [
      `Linux x64 executables from dist/ (${buildNote}). Start-up: median of ${runs} runs, wall time from spawn to exit, from \`/\`.`,
      `Idle RSS after ${settle / 1000} s: the agent (started a second time with its state folder, as after its first start) connected to the manager executable and reporting every 5 s; the manager with that one agent.`,
      '',
      ...table(['file', 'size', 'gzipped'], sizes),
      '',
      ...table(['command', 'median time', 'output'], starts),
      '',
      ...table(['process', 'idle RSS', 'against bare Node 22'], [
        ['agent-linux-x64 (connected, reporting)', agentRss ? fmt.mib(agentRss) : 'it exited before it was measured', bare22 ? `${((agentRss / bare22 - 1) * 100).toFixed(0)}% over` : '-'],
        ['manager-linux-x64 (one agent)', mgrRss ? fmt.mib(mgrRss) : 'it exited before it was measured', bare22 ? `${((mgrRss / bare22 - 1) * 100).toFixed(0)}% over` : '-'],
        ...(bare22 ? [['bare Node 22 `-e "setInterval(() => {}, 1 << 30)"`', fmt.mib(bare22), '']] : []),
      ]),
      '',
      ...(node22 ? [] : ['The bare Node 22 binary was not in the build cache (node_modules/.cache/hostwatch-node): no reference row.', '']),
    ];
    commands.push('dist/agent-linux-x64 --version', 'dist/manager-linux-x64 --version', 'dist/manager-linux-x64 --host 127.0.0.1 --port 0 --udp-port 0 --api 127.0.0.1:0 --data-dir <tmp> --auto-accept --no-console', 'dist/agent-linux-x64 --manager 127.0.0.1:<port> --udp-port <port> --name exe-agent --state-dir <tmp>');
    const goals: Goal[] = [{
      goal: 'agent RSS within 15% of bare Node idle (the executable against bare Node 22)',
      figure: !agentRss ? 'the agent executable exited before it was measured' : bare22 ? `${fmt.mib(agentRss)} against ${fmt.mib(bare22)}: ${((agentRss / bare22 - 1) * 100).toFixed(0)}% over` : 'no bare Node 22 to compare with',
      met: ctx.quick || !bare22 || !agentRss ? null : agentRss <= bare22 * 1.15,
    }];
    return { body, goals, commands };
  },
};

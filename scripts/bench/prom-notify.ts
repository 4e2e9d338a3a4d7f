// `/metrics`, `/sd` and the notification outbox at fleet size: the figures of prom-notify.run.ts,
// taken in a fresh process (so nothing this driver allocated counts) and reported with goals.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BUILD, fmt } from './procs.ts';
import type { Ctx, Outcome, Scenario } from './report.ts';

interface Figures {
  agents: number;
  metricsBytes: number;
  renderMs: { median: number; min: number; max: number };
  slicedMs: number;
  longestBlockMs: number;
  sdBytes: number;
  sdMs: number;
  outbox: { items: number; putMs: number; rmMs: number; reopenMs: number };
}

/** The listener yields every 500 agents; a scrape must not hold reports back longer than this. */
const BLOCK_GOAL_MS = 50;

export const promNotify: Scenario = {
  id: 'metrics',
  title: 'Prometheus endpoint and notification outbox',
  async run(ctx: Ctx): Promise<Outcome> {
    const agents = ctx.quick ? 1000 : 10_000;
    const script = join(BUILD, 'scripts', 'bench', 'prom-notify.run.mjs');
    ctx.log(`metrics: /metrics and /sd for ${agents} agents, outbox of 20,000 items`);
    const r = spawnSync(process.execPath, [script, String(agents), '--json'], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`prom-notify.run exited ${r.status ?? r.signal}: ${(r.stderr || '').trim().split('\n').slice(-3).join(' ')}`);
    const f = JSON.parse(r.stdout.trim().split('\n').pop()!) as Figures;
    const perS = (n: number, ms: number) => fmt.int(n / (ms / 1000));
    return {
      body: [
        `In one process: a \`ManagerState\` holding ${fmt.int(f.agents)} agents with a report each (12 values, one interface), rendered as the`,
        'listener renders it; then the notification outbox (`common/notify/outbox.ts`, CRC-framed, fsynced) on this machine\'s disk.',
        '',
        '|  | figure |',
        '|---|---|',
        `| \`/metrics\` body for ${fmt.int(f.agents)} agents | ${(f.metricsBytes / 1048576).toFixed(1)} MiB |`,
        `| rendered at once, median of 5 (min / max) | ${fmt.ms(f.renderMs.median)} (${fmt.ms(f.renderMs.min)} / ${fmt.ms(f.renderMs.max)}) |`,
        `| rendered as served (yielding every 500 agents): whole body / longest stretch without a yield | ${fmt.ms(f.slicedMs)} / ${fmt.ms(f.longestBlockMs)} |`,
        `| \`/sd\` for ${fmt.int(f.agents)} agents | ${(f.sdBytes / 1024).toFixed(0)} KiB in ${fmt.ms(f.sdMs)} |`,
        `| outbox: ${fmt.int(f.outbox.items)} alerts queued / delivered (removed) | ${perS(f.outbox.items, f.outbox.putMs)}/s / ${perS(f.outbox.items, f.outbox.rmMs)}/s |`,
        `| outbox reopened after that | ${fmt.ms(f.outbox.reopenMs)} |`,
        '',
      ],
      goals: [{
        goal: `a scrape of ${fmt.int(f.agents)} agents holds the manager's event loop under ${BLOCK_GOAL_MS} ms at a time`,
        figure: `longest stretch ${fmt.ms(f.longestBlockMs)}; body ${(f.metricsBytes / 1048576).toFixed(1)} MiB in ${fmt.ms(f.slicedMs)}`,
        met: ctx.quick ? null : f.longestBlockMs < BLOCK_GOAL_MS,
      }],
      commands: [`node .build/scripts/bench/prom-notify.run.mjs ${agents} --json`],
    };
  },
};

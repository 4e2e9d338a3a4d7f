// `npm run bench [-- --quick] [-- --only a,b] [-- --no-profile] [-- --out FILE]`: runs the
// benchmark scenarios and writes BENCHMARKS.md (quick mode: .build/BENCHMARKS-quick.md, so a smoke
// run never overwrites the real figures). Benchmarks, not tests: nothing here fails on speed; the
// exit code is non-zero only when a scenario crashed.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { VERSION } from '../../common/version.ts';
import { agentCost } from './agent-cost.ts';
import { alertLatency } from './alert-latency.ts';
import { dashboard } from './dashboard.ts';
import { executables } from './executables.ts';
import { managerScale } from './manager-scale.ts';
import { history } from './history.ts';
import { logThrottle } from './log-throttle.ts';
import { machine } from './proc-stats.ts';
import { processScale } from './process-scale.ts';
import { promNotify } from './prom-notify.ts';
import { BUILD, cleanTempDirs, killAll, ROOT, snapshotBuild } from './procs.ts';
import { mark, table, type Ctx, type Goal, type Outcome, type Scenario } from './report.ts';
import { transfer } from './transfer.ts';
import { upgrade } from './upgrade.ts';

const SCENARIOS: Scenario[] = [agentCost, processScale, managerScale, history, transfer, upgrade, alertLatency, executables, dashboard, promNotify, logThrottle];

function parseArgs(argv: string[]): { quick: boolean; only: string[] | null; profile: boolean; out: string | null } {
  const o = { quick: false, only: null as string[] | null, profile: true, out: null as string | null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i] ?? '');
    if (a === '--quick') o.quick = true;
    else if (a === '--no-profile') o.profile = false;
    else if (a === '--only' || a.startsWith('--only=')) o.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--out' || a.startsWith('--out=')) o.out = value();
    else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench [-- --quick] [-- --only ${SCENARIOS.map((s) => s.id).join(',')}] [-- --no-profile] [-- --out FILE]`);
      process.exit(0);
    } else {
      console.error(`bench: unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (o.only) {
    for (const id of o.only) {
      if (!SCENARIOS.some((s) => s.id === id)) {
        console.error(`bench: unknown scenario ${id} (known: ${SCENARIOS.map((s) => s.id).join(', ')})`);
        process.exit(2);
      }
    }
  }
  return o;
}

interface Result {
  scenario: Scenario;
  status: 'ran' | 'skipped' | 'crashed';
  reason?: string;
  outcome?: Outcome;
  seconds: number;
}

/** A scenario that hangs is a crash after this long, not a CI timeout. */
const LIMIT_MS = { quick: 100_000, full: 30 * 60_000 };

async function runOne(s: Scenario, ctx: Ctx, limitMs: number): Promise<Result> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await Promise.race([
      s.run(ctx),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`did not finish within ${limitMs / 1000} s`)), limitMs); }),
    ]);
    const seconds = (performance.now() - t0) / 1000;
    if (outcome.skipped) return { scenario: s, status: 'skipped', reason: outcome.skipped, outcome, seconds };
    return { scenario: s, status: 'ran', outcome, seconds };
  } catch (err) {
    return { scenario: s, status: 'crashed', reason: (err as Error).stack ?? String(err), seconds: (performance.now() - t0) / 1000 };
  } finally {
    clearTimeout(timer);
    await killAll();
  }
}

/** The commit measured, and the product files that differed from it (taken when the run starts). */
function gitCommit(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) return 'unknown';
  const dirty = (spawnSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'common', 'manager.ts', 'agent.ts', 'scripts/lib'], { cwd: ROOT, encoding: 'utf8' }).stdout ?? '')
    .split('\n').map((l) => l.slice(3).trim()).filter(Boolean);
  return `${r.stdout.trim()}${dirty.length ? ` with uncommitted changes to ${dirty.join(', ')}` : ''}`;
}

function render(results: Result[], o: { quick: boolean; argv: string[]; startedAt: Date; seconds: number; commit: string }): string {
  const m = machine();
  const goals: (Goal & { scenario: string })[] = results.flatMap((r) => (r.outcome?.goals ?? []).map((g) => ({ ...g, scenario: r.scenario.title })));
  const lines: string[] = [
    '# Benchmarks',
    '',
    o.quick ? '**Quick mode (smoke run): short windows and small sizes; the figures are not the benchmark.**\n' : '',
    `Measured ${o.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench${o.argv.length ? ' -- ' + o.argv.join(' ') : ''}\` `
      + `(${(o.seconds / 60).toFixed(1)} min), hostwatch ${VERSION} at commit ${o.commit}.`,
    '',
    `Machine: ${m.cpu}, **${m.cores} cores, ${m.memGiB} GiB** memory, ${m.os} (Linux ${m.kernel}), Node ${process.version} for the dev bundles.`,
    'Every process is on this one machine and every address is loopback: load generators share the cores with what they measure',
    '(each section says how much they used).',
    '',
    'Commands: `npm run bench` (the full suite, about 15 minutes, more when a missed goal adds a profiled pass; writes this file),',
    '`npm run bench -- --quick` (a smoke run in',
    'under two minutes, as CI runs it; writes `.build/BENCHMARKS-quick.md`), `npm run bench -- --only manager-scale` (one scenario;',
    `ids: ${SCENARIOS.map((s) => s.id).join(', ')}), \`--no-profile\` (no profiled passes where a goal is missed).`,
    'Sources: `scripts/bench/` (one file a scenario, `bench.run.ts` the driver, `sim.run.ts` the agent simulator).',
    '',
    '## Goals',
    '',
    ...table(['scenario', 'goal', 'figure', 'verdict'], goals.map((g) => [g.scenario, g.goal, g.figure, mark(g.met)])),
    '',
    ...table(['scenario', 'status', 'time'], results.map((r) => [r.scenario.title, r.status + (r.reason ? `: ${r.reason.split('\n')[0]}` : ''), `${r.seconds.toFixed(0)} s`])),
    '',
  ];
  for (const r of results) {
    lines.push(`## ${r.scenario.title}`, '');
    if (r.status === 'crashed') {
      lines.push('Crashed:', '', '```', r.reason ?? '', '```', '');
      continue;
    }
    if (r.status === 'skipped') lines.push(`Skipped: ${r.reason}`, '');
    lines.push(...(r.outcome?.body ?? []));
    if (r.outcome?.commands.length) {
      lines.push('<details><summary>commands</summary>', '', '```', ...r.outcome.commands, '```', '', '</details>', '');
    }
  }
  const findings = join(ROOT, 'scripts', 'bench', 'findings.md');
  if (!o.quick && existsSync(findings)) lines.push(readFileSync(findings, 'utf8').trim(), '');
  return lines.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n') + '\n';
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseArgs(argv);
  const startedAt = new Date();
  const t0 = performance.now();
  const commit = gitCommit();
  snapshotBuild();
  const log = (line: string) => process.stdout.write(`bench: ${line}\n`);
  const ctx: Ctx = { quick: o.quick, profile: o.profile && !o.quick, log };
  const chosen = SCENARIOS.filter((s) => !o.only || o.only.includes(s.id));
  log(`${o.quick ? 'quick' : 'full'} run of ${chosen.map((s) => s.id).join(', ')}`);
  const results: Result[] = [];
  process.on('SIGINT', () => void killAll().then(() => process.exit(130)));
  for (const s of chosen) {
    log(`${s.id}: start`);
    const r = await runOne(s, ctx, o.quick ? LIMIT_MS.quick : LIMIT_MS.full);
    results.push(r);
    log(`${s.id}: ${r.status} in ${r.seconds.toFixed(0)} s${r.reason ? `: ${r.reason}` : ''}`);
    for (const g of r.outcome?.goals ?? []) log(`  ${mark(g.met).replace(/\*/g, '')}: ${g.goal}: ${g.figure}`);
  }
  cleanTempDirs();
  const out = o.out ?? (o.quick ? join(BUILD, 'BENCHMARKS-quick.md') : join(ROOT, 'BENCHMARKS.md'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, render(results, { quick: o.quick, argv, startedAt, seconds: (performance.now() - t0) / 1000, commit }));
  log(`wrote ${relative(process.cwd(), out) || out}`);
  const ran = results.filter((r) => r.status === 'ran').length;
  const skipped = results.filter((r) => r.status === 'skipped').length;
  const crashed = results.filter((r) => r.status === 'crashed').length;
  // One line a CI log reader can find: scenarios, not speed.
  log(`${ran} ran, ${skipped} skipped, ${crashed} crashed`);
  process.exit(crashed ? 1 : 0);
}

void main();

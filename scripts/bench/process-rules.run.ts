// What counting processes for `metric: process` rules costs, in CPU per count, on this host with
// `--extra N` sleeping processes added (default 300, killed at the end): by name only, with a
// command-line rule too, and the top listing beside it for scale. The agent counts at most once
// every 5 s, so the share of a core is the figure / 5000 ms.
//   node scripts/build-dev.mjs --no-tests && node .build/scripts/bench/process-rules.run.mjs [--extra 300] [--rounds 300]
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { LinuxProcessCounter, type ProcessQuery } from '../../common/collect/process-match.ts';
import { LinuxProcesses } from '../../common/collect/procs-linux.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 0 || v > 5000) throw new Error(`${name}: a whole number from 0 to 5000`);
  return v;
};
const extra = arg('--extra', 300);
const rounds = Math.max(1, arg('--rounds', 300));

async function cpuMsPer(f: () => unknown): Promise<number> {
  const a = process.cpuUsage();
  for (let i = 0; i < rounds; i++) await f();
  const b = process.cpuUsage(a);
  return (b.user + b.system) / 1000 / rounds;
}

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('Linux only (/proc)');
  const kids: ChildProcess[] = [];
  try {
    for (let i = 0; i < extra; i++) kids.push(spawn('sleep', ['600'], { stdio: 'ignore' }));
    const names: ProcessQuery[] = [{ names: ['nginx*'] }, { names: ['sshd', 'cron'] }];
    const withCmdline: ProcessQuery[] = [...names, { cmdlines: ['*java*-jar*'] }];
    const counter = new LinuxProcessCounter();
    const top = new LinuxProcesses();
    for (let i = 0; i < 20; i++) {
      await counter.count(withCmdline);
      top.top({ n: 10, sort: 'cpu' });
    }
    const total = readdirSync('/proc').filter((x) => /^\d+$/.test(x)).length;
    const byName = await cpuMsPer(() => counter.count(names));
    const byCmd = await cpuMsPer(() => counter.count(withCmdline));
    const topMs = await cpuMsPer(() => top.top({ n: 10, sort: 'cpu' }));
    const share = (ms: number) => `${((ms / 5000) * 100).toFixed(3)}% of a core at one count every 5 s`;
    console.log(`processes on this host: ${total} (${extra} added)`);
    console.log(`count by name:              ${byName.toFixed(2)} ms CPU a count (${share(byName)})`);
    console.log(`count with a cmdline rule:  ${byCmd.toFixed(2)} ms CPU a count (${share(byCmd)})`);
    console.log(`top listing, for scale:     ${topMs.toFixed(2)} ms CPU a reading`);
  } finally {
    for (const k of kids) k.kill('SIGKILL');
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});

// Upgrade rollout: `manager upgrade --all --to <file> --batch 5` of 20 real agent processes from a
// signed 100 MiB file (quick: 3 agents, batches of 2, 5 MiB), with the manager's and each agent's
// memory sampled all along, and the time per host against `scp` of the same file (one copy, and as
// many copies at once as a batch has hosts). The agents are upgrade-agent.run.ts: the real agent
// receiving, writing and verifying the file and the real switch renaming it into place; what runs
// after the switch is that program bundled as version B (the file is random bytes, not a program).

import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hwmKiB, rssKiB } from './proc-stats.ts';
import { BUILD, fmt, MANAGER_JS, quantile, ROOT, spawnNode, startManager, tempDir, waitOnline, type ManagerProc, type Proc } from './procs.ts';
import { removeAtCleanup } from '../lib/temp.ts';
import { table, type Ctx, type Goal, type Outcome, type Scenario } from './report.ts';
import { ensureSshd, startScpPeer } from './scp-peer.ts';
import { makeFile } from './transfer.ts';

const A_JS = join(BUILD, 'scripts', 'bench', 'upgrade-agent.run.mjs');
const B_VERSION = '0.2.0';

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: 1024 * 1024 })) h.update(c as Buffer);
  return h.digest('hex');
}

/** `manager <args> --data-dir <dir>` to its end; throws with its output when it fails. */
async function managerCli(dataDir: string, args: string[], onLine?: (l: string) => void): Promise<string> {
  const p = spawnNode(MANAGER_JS, [...args, '--data-dir', dataDir], onLine ? { onLine } : {});
  const code = await p.exited;
  if (code !== 0) throw new Error(`manager ${args.join(' ')} exited ${code}: ${p.output().slice(-600)}`);
  return p.output();
}

/** A (this build's upgrade-agent) and B (the same program bundled as version B), in a folder under .build/ (packages resolve). */
async function programs(): Promise<{ a: string; b: string }> {
  const dir = join(BUILD, `bench-upgrade-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  removeAtCleanup(dir);
  const a = join(dir, 'agent-a.mjs');
  const b = join(dir, 'agent-b.mjs');
  copyFileSync(A_JS, a);
  await build({
    entryPoints: [join(ROOT, 'scripts', 'bench', 'upgrade-agent.run.ts')], outfile: b, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    packages: 'external', logLevel: 'warning', define: { 'process.env.HOSTWATCH_COMMIT': '""', 'process.env.HOSTWATCH_VERSION': JSON.stringify(B_VERSION) },
  });
  return { a, b };
}

interface Peak {
  /** VmHWM of the agent process that received, verified and switched (A) */
  aKiB: number;
  /** the highest RSS seen of the agent it started (B) */
  bKiB: number;
  bPid?: number;
}

interface HostRow {
  agent: string;
  step: string;
  transferMs: number;
  totalMs: number;
}

export const upgrade: Scenario = {
  id: 'upgrade',
  title: 'Upgrade rollout',
  async run(ctx: Ctx): Promise<Outcome> {
    const n = ctx.quick ? 3 : 20;
    const batch = ctx.quick ? 2 : 5;
    const mib = ctx.quick ? 5 : 100;
    const dir = tempDir('hw-bench-upg-');
    const file = join(dir, 'hostwatch-agent-b');
    makeFile(file, mib);
    const size = statSync(file).size;
    const fileSha = await sha256(file);
    const { a, b } = await programs();
    const dataDir = tempDir('hw-bench-upg-mgr-');
    await managerCli(dataDir, ['upgrade-key', 'create']);
    await managerCli(dataDir, ['upgrade-key', 'sign', file, '--agent-version', B_VERSION]);
    const mgr: ManagerProc = await startManager({ dataDir });
    const agents: (Proc & { name: string; exe: string; peak: Peak })[] = [];
    const bPids = new Set<number>();
    let mgrPeakRss = 0;
    let sampler: NodeJS.Timeout | undefined;
    try {
      for (let i = 1; i <= n; i++) {
        const name = `upg-${String(i).padStart(2, '0')}`;
        const home = join(dir, name);
        mkdirSync(home);
        const exe = join(home, 'hostwatch-agent');
        copyFileSync(a, exe); // the "executable" A: renamed to .previous by the switch
        const stateDir = tempDir('hw-bench-upg-agent-');
        const peak: Peak = { aKiB: 0, bKiB: 0 };
        const p = spawnNode(a, ['--manager', `127.0.0.1:${mgr.tcpPort}`, '--udp-port', String(mgr.udpPort), '--name', name, '--state-dir', stateDir, '--exe', exe, '--then', b], {
          onLine: (l) => {
            const m = /started the new agent \S+ \(pid (\d+)\)/.exec(l);
            if (m) {
              peak.bPid = Number(m[1]);
              bPids.add(peak.bPid);
            }
          },
        });
        agents.push({ ...p, name, exe, peak });
      }
      for (const ag of agents) await waitOnline(mgr, ag.name, 60_000);
      const idle = { mgr: rssKiB(mgr.pid) ?? 0, agent: quantile(agents.map((ag) => rssKiB(ag.pid) ?? 0), 0.5) };
      ctx.log(`  ${n} agents online; manager RSS ${fmt.mib(idle.mgr)}, agent median ${fmt.mib(idle.agent)}; upgrading from ${mib} MiB, ${batch} at a time`);
      const sample = () => {
        mgrPeakRss = Math.max(mgrPeakRss, rssKiB(mgr.pid) ?? 0);
        for (const ag of agents) {
          ag.peak.aKiB = Math.max(ag.peak.aKiB, hwmKiB(ag.pid) ?? 0); // read while it lives: it leaves once B is confirmed
          if (ag.peak.bPid) ag.peak.bKiB = Math.max(ag.peak.bKiB, rssKiB(ag.peak.bPid) ?? 0);
        }
      };
      sampler = setInterval(sample, 100);
      const t0 = performance.now();
      await managerCli(dataDir, ['upgrade', '--all', '--to', file, '--batch', String(batch), '--json']);
      const wallMs = performance.now() - t0;
      // B keeps running: a few more samples of it settled.
      for (let i = 0; i < 10; i++) {
        sample();
        await new Promise((r) => setTimeout(r, 200));
      }
      clearInterval(sampler);
      sampler = undefined;
      const status = await mgr.api.json('GET', '/api/upgrade');
      const hosts: HostRow[] = status.hosts.map((h: { agent: string; step: string; sendingAt?: number; sentAt?: number; at: number }) => ({
        agent: h.agent, step: h.step, transferMs: (h.sentAt ?? NaN) - (h.sendingAt ?? NaN), totalMs: h.at - (h.sendingAt ?? NaN),
      }));
      // What each agent has at its executable's path now: the file, whole.
      let whole = 0;
      for (const ag of agents) if ((await sha256(ag.exe)) === fileSha) whole++;
      const agentsList = await mgr.api.json<{ name: string; version: string; online: boolean }[]>('GET', '/api/agents');
      const onB = agentsList.filter((x) => x.online && x.version === B_VERSION).length;
      const mgrHwm = hwmKiB(mgr.pid) ?? 0;

      // scp of the same file: one copy, and `batch` copies at once (as a batch sends them).
      const sshd = ensureSshd(ctx.log);
      let scpOne: number | undefined;
      let scpBatch: number | undefined;
      let scpWhy = sshd.ok ? '' : sshd.why;
      if (sshd.ok) {
        const peer = await startScpPeer().catch((err: Error) => { scpWhy = `the private sshd did not start: ${err.message.slice(0, 200)}`; return undefined; });
        if (peer) {
          try {
            const one = await peer.copy(file, join(dir, 'scp-0'));
            if (one.code === 0 && statSync(join(dir, 'scp-0')).size === size) scpOne = one.ms;
            const many = await Promise.all(Array.from({ length: batch }, (_, i) => peer.copy(file, join(dir, `scp-b${i}`))));
            if (many.every((r, i) => r.code === 0 && statSync(join(dir, `scp-b${i}`)).size === size)) scpBatch = Math.max(...many.map((r) => r.ms));
            if (scpOne === undefined || scpBatch === undefined) scpWhy = `scp failed: ${one.out || many.find((r) => r.code !== 0)?.out || 'short copy'}`;
          } finally {
            await peer.stop();
            for (let i = 0; i <= batch; i++) rmSync(join(dir, i === 0 ? 'scp-0' : `scp-b${i - 1}`), { force: true });
          }
        }
      }
      if (scpWhy) ctx.log(`  no scp: ${scpWhy}`);

      const done = hosts.filter((h) => h.step === 'done');
      const transfer = done.map((h) => h.transferMs);
      const total = done.map((h) => h.totalMs);
      const agentPeak = Math.max(...agents.map((ag) => Math.max(ag.peak.aKiB, ag.peak.bKiB)));
      const aPeak = Math.max(...agents.map((ag) => ag.peak.aKiB));
      const bPeak = Math.max(...agents.map((ag) => ag.peak.bKiB));
      const mgrPeak = Math.max(mgrPeakRss, mgrHwm);
      const mb = (kib: number) => (kib * 1024) / 1e6;
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      const goals: Goal[] = [{
        goal: `${n} agents upgraded ${batch} at a time from a ${mib} MiB executable: manager RSS under 200 MB, each agent under 150 MB; time per host against scp`,
        figure: `${done.length}/${n} done, ${onB} back on ${B_VERSION}, ${whole} with the file whole at their executable's path; manager peak ${mb(mgrPeak).toFixed(0)} MB, `
          + `agent peak ${mb(agentPeak).toFixed(0)} MB; transfer per host ${s(quantile(transfer, 0.5))} median with ${batch} at once `
          + `(scp ${scpBatch !== undefined ? `${s(scpBatch)} with ${batch} at once, ${s(scpOne!)} alone` : `not run: ${scpWhy}`}); ${s(wallMs / n)} per host over the whole rollout`,
        met: ctx.quick ? null : done.length === n && whole === n && mgrPeak * 1024 < 200e6 && agentPeak * 1024 < 150e6,
      }];
      const body = [
        `${n} agent processes on this machine, each with its own state folder and "executable" file, upgraded by \`manager upgrade --all --to <file> --batch ${batch}\``,
        `(the CLI as a user runs it) from a signed ${mib} MiB file (${fmt.int(size)} bytes of random-looking data, in the page cache). Each agent is`,
        '`scripts/bench/upgrade-agent.run.ts`: the real agent (--allow-upgrade, the upgrade key pinned from the manager\'s welcome) that receives the file',
        'within its credit window, writes and fsyncs it to `<exe>.new`, checks size, sha256 and signature on what the disk holds, then runs the real switch',
        '(`<exe>` kept as `<exe>.previous`, the new file renamed over it, the new agent started and confirmed when the manager welcomes it). The stand-in:',
        `what is started after the switch is that same program bundled as version ${B_VERSION} (the file is random bytes, not a program); it reconnects with`,
        'the same state folder and id, and the manager counts the host done only when it says hello on the new version.',
        `At the end every agent's executable path is hashed here: ${whole} of ${n} hold the file, whole.`,
        '',
        'Memory: the manager\'s RSS sampled every 100 ms over the rollout and its VmHWM since start; for each agent, the VmHWM of the process that',
        'received, verified and switched (A, read while it lived), and the RSS sampled of the agent it started (B).',
        '',
        ...table(['', 'figure'], [
          ['manager RSS idle, with the agents online', fmt.mib(idle.mgr)],
          ['manager peak RSS during the rollout (sampled) / VmHWM', `${fmt.mib(mgrPeakRss)} / ${fmt.mib(mgrHwm)}`],
          ['agent RSS idle (median)', fmt.mib(idle.agent)],
          ['agent peak, receiving and verifying (A, VmHWM, highest of all)', fmt.mib(aPeak)],
          ['agent after the switch (B, highest RSS seen)', fmt.mib(bPeak)],
          ['hosts done / back on B / file whole at the path', `${done.length} / ${onB} / ${whole} of ${n}`],
          ['whole rollout (the CLI\'s start to its end)', `${s(wallMs)}, ${s(wallMs / n)} a host`],
          [`transfer per host, ${batch} at once (sending to verified on the agent's disk): median / max`, `${s(quantile(transfer, 0.5))} / ${s(Math.max(...transfer))}`],
          ['per host, sending to back on B (includes the new agent\'s start and hello): median / max', `${s(quantile(total, 0.5))} / ${s(Math.max(...total))}`],
          ...(scpBatch !== undefined ? [
            [`\`scp\` of the same file, ${batch} at once (the slowest)`, s(scpBatch)],
            ['`scp` of the same file, alone', s(scpOne!)],
          ] : [['`scp`', `not run: ${scpWhy}`]]),
        ]),
        '',
      ];
      return {
        body, goals,
        commands: [
          'manager upgrade-key create --data-dir <tmp>; manager upgrade-key sign <file> --agent-version 0.2.0 --data-dir <tmp>',
          `node .build/scripts/bench/upgrade-agent.run.mjs --manager 127.0.0.1:<port> --udp-port <port> --name upg-NN --state-dir <tmp> --exe <tmp>/upg-NN/hostwatch-agent --then <B bundle>  (x${n})`,
          `manager upgrade --all --to <file> --batch ${batch} --json --data-dir <tmp>`,
          `/usr/sbin/sshd -D -e -f <tmp>/sshd_config; scp ... -P <port> <user>@127.0.0.1:<file> <dest>  (once, then ${batch} at once)`,
        ],
      };
    } finally {
      if (sampler) clearInterval(sampler);
      for (const pid of bPids) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
      await Promise.all(agents.map((ag) => ag.kill('SIGKILL', 1000)));
      await mgr.kill('SIGTERM');
      mgr.api.close();
      rmSync(dir, { recursive: true, force: true });
      if (existsSync(file)) rmSync(file, { force: true });
    }
  },
};

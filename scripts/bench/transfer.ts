// File transfer: one file fetched from an agent through the manager with the CLI
// (`manager fetch <agent> <path> <dest>`), against a plain Node TCP pipe of the same file on
// loopback (the practical limit), with the manager's and the agent's peak RSS during it.

import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { loadOrCreateIdentity } from '../../common/security/tls-identity.ts';
import { join } from 'node:path';
import { CLK_TCK, hwmKiB, processTree, readStat, rssKiB, CpuMeter } from './proc-stats.ts';
import { fmt, MANAGER_JS, sleep, spawnNode, spawnProc, startAgentProc, startManager, tempDir, waitOnline, type Proc } from './procs.ts';
import { monoUs, newestProfile, profileMarkdown, summarize } from './profile.ts';
import { table, type Ctx, type Goal, type Outcome, type Scenario } from './report.ts';

const MIB = 1024 * 1024;

/** A file of `mib` MiB of random-looking bytes (a 1 MiB random block, each copy varied). */
function makeFile(path: string, mib: number): void {
  const block = Buffer.alloc(MIB);
  for (let i = 0; i < MIB; i += 32) createHash('sha256').update(String(i)).digest().copy(block, i);
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      block.writeUInt32BE(i, 0);
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
}

// The plain pipe: one process serves the file on a socket, another writes what arrives to a file.
// Mode "plain": nothing else. Mode "sha": the receiver hashes. Mode "tls-sha": TLS 1.3 between them
// and both ends hash: the work the product's design asks for, done the straightforward way, in two
// processes instead of three.
const SENDER = `
const net = require('node:net'); const tls = require('node:tls'); const fs = require('node:fs'); const { createHash } = require('node:crypto');
const [file, mode, key, cert] = process.argv.slice(1);
const serve = (s) => {
  const hash = mode === 'tls-sha' ? createHash('sha256') : null;
  const rs = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  if (hash) rs.on('data', (d) => hash.update(d));
  rs.pipe(s);
  srv.close();
};
const srv = mode === 'tls-sha'
  ? tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert), minVersion: 'TLSv1.3' }, serve)
  : net.createServer(serve);
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
setTimeout(() => process.exit(3), 600000).unref();`;
const RECEIVER = `
const net = require('node:net'); const tls = require('node:tls'); const fs = require('node:fs'); const { createHash } = require('node:crypto');
const [port, dest, mode] = process.argv.slice(1);
const hash = mode === 'plain' ? null : createHash('sha256');
const t0 = performance.now(); let bytes = 0;
const s = mode === 'tls-sha' ? tls.connect({ port: Number(port), host: '127.0.0.1', rejectUnauthorized: false }) : net.connect(Number(port), '127.0.0.1');
const out = fs.createWriteStream(dest);
s.on('data', (d) => { bytes += d.length; if (hash) hash.update(d); });
s.pipe(out);
out.on('finish', () => { console.log(JSON.stringify({ bytes, ms: performance.now() - t0 })); });`;

type PipeMode = 'plain' | 'sha' | 'tls-sha';

interface PipeRun {
  bytes: number;
  ms: number;
  peakKiB: number;
  senderCpu: number;
  recvCpu: number;
}

async function plainPipe(file: string, dest: string, mode: PipeMode, tlsFiles: { key: string; cert: string }): Promise<PipeRun> {
  let port = 0;
  const sender = spawnNode('-e', [SENDER, file, mode, tlsFiles.key, tlsFiles.cert], { onLine: (l) => { if (/^\d+$/.test(l.trim())) port = Number(l.trim()); } });
  try {
    for (let i = 0; i < 100 && !port; i++) await sleep(50);
    if (!port) throw new Error(`pipe sender did not start: ${sender.output()}`);
    let result = '';
    const t0 = performance.now();
    const sMeter = new CpuMeter(sender.pid).start();
    const recv = spawnNode('-e', [RECEIVER, String(port), dest, mode], { onLine: (l) => { if (l.startsWith('{')) result = l; } });
    const rMeter = new CpuMeter(recv.pid).start();
    let peak = 0;
    let senderCpu = 0;
    let recvCpu = 0;
    while (recv.child.exitCode === null && performance.now() - t0 < 300_000) {
      peak = Math.max(peak, hwmKiB(sender.pid) ?? 0);
      const a = sMeter.read();
      const b = rMeter.read();
      if (a.ticks > 0) senderCpu = a.percent;
      if (b.ticks > 0) recvCpu = b.percent;
      await Promise.race([recv.exited, sleep(100)]);
    }
    if (!result) throw new Error(`pipe receiver failed: ${recv.output()}`);
    const r = JSON.parse(result) as { bytes: number; ms: number };
    return { ...r, peakKiB: peak, senderCpu, recvCpu };
  } finally {
    await sender.kill('SIGKILL', 1000);
    rmSync(dest, { force: true });
  }
}

export interface FetchRun {
  ms: number;
  code: number | null;
  out: string;
  mgrHwmKiB: number;
  agentHwmKiB: number;
  cliHwmKiB: number;
  /** CPU seconds (utime + stime) each process used over the fetch */
  mgrCpuS: number;
  agentCpuS: number;
  cliCpuS: number;
  sha: string;
}

/** "0m1.234s" (bash's `times`) in seconds. */
const bashSeconds = (t: string): number => {
  const m = /^(\d+)m([\d.]+)s$/.exec(t);
  return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
};

/**
 * One `manager fetch` of `file` through a fresh manager and agent. The CLI runs under bash, whose
 * `times` gives its exact CPU after it exits (polling /proc would miss its last moments); the
 * manager's and the agent's CPU are read from /proc before and after. With `profile`, all three run
 * under `--cpu-prof`.
 */
export async function fetchThrough(ctx: Ctx, file: string, mib: number, profile: boolean): Promise<FetchRun & { profile?: string[] }> {
  const prof = profile ? { manager: tempDir('hw-bench-prof-'), agent: tempDir('hw-bench-prof-'), cli: tempDir('hw-bench-prof-') } : undefined;
  const mgr = await startManager(prof ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', prof.manager] } : {});
  const agent: Proc = startAgentProc(mgr, 'source', [], prof ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', prof.agent] } : {});
  const outDir = tempDir('hw-bench-fetch-');
  const dest = join(outDir, 'copy.bin');
  try {
    await waitOnline(mgr, 'source');
    await sleep(1000);
    const before = { mgr: rssKiB(mgr.pid) ?? 0, agent: rssKiB(agent.pid) ?? 0 };
    ctx.log(`  fetch ${mib} MiB through the manager (manager RSS ${fmt.mib(before.mgr)}, agent ${fmt.mib(before.agent)} before)`);
    const ticks0 = { mgr: readStat(mgr.pid)?.ticks ?? 0, agent: readStat(agent.pid)?.ticks ?? 0 };
    const fromUs = monoUs();
    const t0 = performance.now();
    const nodeArgs = prof ? ['--cpu-prof', '--cpu-prof-dir', prof.cli] : [];
    const cli = spawnProc('bash', ['-c', '"$@"; rc=$?; times; exit $rc', 'fetch', process.execPath, ...nodeArgs, MANAGER_JS, 'fetch', 'source', file, dest, '--data-dir', mgr.dataDir]);
    let cliPid = 0;
    let cliHwm = 0;
    while (cli.child.exitCode === null && performance.now() - t0 < 600_000) {
      cliPid ||= processTree(cli.pid).find((p) => p !== cli.pid) ?? 0;
      if (cliPid) cliHwm = Math.max(cliHwm, hwmKiB(cliPid) ?? 0);
      await Promise.race([cli.exited, sleep(100)]);
    }
    const code = await cli.kill('SIGKILL', 1000);
    const ms = performance.now() - t0;
    const toUs = monoUs();
    const ticks1 = { mgr: readStat(mgr.pid)?.ticks ?? 0, agent: readStat(agent.pid)?.ticks ?? 0 };
    // `times` prints the shell's own times, then its children's: the second line is the CLI.
    const times = cli.output().trim().split('\n').pop()!.trim().split(/\s+/);
    const run: FetchRun & { profile?: string[] } = {
      ms, code, out: cli.output().trim().split('\n').slice(-3, -1).join(' '),
      mgrHwmKiB: hwmKiB(mgr.pid) ?? 0, agentHwmKiB: hwmKiB(agent.pid) ?? 0, cliHwmKiB: cliHwm,
      mgrCpuS: (ticks1.mgr - ticks0.mgr) / CLK_TCK, agentCpuS: (ticks1.agent - ticks0.agent) / CLK_TCK,
      cliCpuS: bashSeconds(times[0] ?? '') + bashSeconds(times[1] ?? ''), sha: /[0-9a-f]{64}/.exec(cli.output())?.[0] ?? '',
    };
    if (prof) {
      await agent.kill('SIGTERM');
      await mgr.kill('SIGTERM');
      run.profile = [];
      for (const [who, dir] of Object.entries(prof)) {
        const f = newestProfile(dir);
        if (f) run.profile.push(...profileMarkdown(`Profile of the ${who === 'cli' ? 'CLI' : who} during the fetch (\`node --cpu-prof\`, a separate run)`, summarize(f, fromUs, toUs, 10)));
      }
    }
    return run;
  } finally {
    await agent.kill('SIGTERM');
    await mgr.kill('SIGTERM');
    mgr.api.close();
    rmSync(dest, { force: true });
  }
}

export const transfer: Scenario = {
  id: 'transfer',
  title: 'File transfer',
  async run(ctx: Ctx): Promise<Outcome> {
    const mib = ctx.quick ? 64 : 1024;
    const dir = tempDir('hw-bench-xfer-');
    const file = join(dir, 'big.bin');
    makeFile(file, mib);
    const size = statSync(file).size;
    const expected = createHash('sha256');
    // The file is in the page cache now for every run alike; its sha256 checks the fetched copy.
    for await (const c of createReadStream(file)) expected.update(c as Buffer);
    const sha = expected.digest('hex');
    const mbps = (ms: number) => size / 1e6 / (ms / 1000);
    const pipeCpu = (p: PipeRun) => `sender ${fmt.pct(p.senderCpu, 0)}, receiver ${fmt.pct(p.recvCpu, 0)}`;

    const runs = ctx.quick ? 1 : 3;
    const pipes: PipeRun[] = [];
    const pipesSha: PipeRun[] = [];
    const pipesTls: PipeRun[] = [];
    const id = await loadOrCreateIdentity(dir, 'pipe', 'hostwatch-bench-pipe');
    const tlsFiles = { key: join(dir, 'pipe-key.pem'), cert: join(dir, 'pipe-cert.pem') };
    if (!existsSync(tlsFiles.key)) {
      writeFileSync(tlsFiles.key, id.key);
      writeFileSync(tlsFiles.cert, id.cert);
    }
    const fetches: FetchRun[] = [];
    for (let i = 0; i < runs; i++) {
      pipes.push(await plainPipe(file, join(dir, 'pipe.bin'), 'plain', tlsFiles));
      if (!ctx.quick) pipesSha.push(await plainPipe(file, join(dir, 'pipe.bin'), 'sha', tlsFiles));
      pipesTls.push(await plainPipe(file, join(dir, 'pipe.bin'), 'tls-sha', tlsFiles));
      fetches.push(await fetchThrough(ctx, file, mib, false));
    }
    const best = <T extends { ms: number }>(xs: T[]) => xs.reduce((a, b) => (b.ms < a.ms ? b : a));
    const pipe = best(pipes);
    const ok = fetches.filter((f) => f.code === 0 && f.sha === sha);
    const fetch = ok.length ? best(ok) : fetches[0]!;
    const ratio = mbps(fetch.ms) / mbps(pipe.ms);
    const peak = Math.max(...fetches.map((f) => Math.max(f.mgrHwmKiB, f.agentHwmKiB)));
    const goals: Goal[] = [{
      goal: 'file transfer at 80% or more of the plain pipe, peak RSS under 100 MB',
      figure: `${mbps(fetch.ms).toFixed(0)} MB/s against ${mbps(pipe.ms).toFixed(0)} MB/s (${(ratio * 100).toFixed(0)}%); peak RSS manager ${fmt.mib(Math.max(...fetches.map((f) => f.mgrHwmKiB)))}, agent ${fmt.mib(Math.max(...fetches.map((f) => f.agentHwmKiB)))}`,
      met: ctx.quick ? null : ok.length === fetches.length && ratio >= 0.8 && peak * 1024 < 100e6,
    }];
    let profile: string[] = [];
    if (ctx.profile && goals[0]!.met === false) {
      ctx.log('  profiled fetch');
      profile = (await fetchThrough(ctx, file, mib, true)).profile ?? [];
    }
    rmSync(file, { force: true });
    const body = [
      `A ${mib} MiB file (${fmt.int(size)} bytes, in the page cache), best of ${runs} runs each. The fetch is the CLI as a user runs it, timed from`,
      'its start to its exit (so its own start-up, ~0.1 s, is included): agent reads and hashes, TLS to the manager, which streams it',
      'over HTTP to the CLI, which hashes and writes it; the copy\'s sha256 is checked against the original. The plain pipe: one Node process',
      '`createReadStream(file).pipe(socket)`, another `socket.pipe(createWriteStream(dest))`, on 127.0.0.1; the TLS pipe is the same over TLS 1.3',
      'with a sha256 at each end. Peak RSS is VmHWM (since start). CPU in % of one core over the transfer (the machine has 2 cores).',
      '',
      ...table(['path', 'MB/s (best)', 'every run', 'peak RSS', 'CPU during it (% of one core)'], [
        ['plain Node TCP pipe', mbps(pipe.ms).toFixed(0), pipes.map((p) => mbps(p.ms).toFixed(0)).join(', '), `sender ${fmt.mib(pipe.peakKiB)}`, pipeCpu(pipe)],
        ...(pipesSha.length ? [['plain pipe, receiver hashing (sha256)', mbps(best(pipesSha).ms).toFixed(0), pipesSha.map((p) => mbps(p.ms).toFixed(0)).join(', '), '', pipeCpu(best(pipesSha))]] : []),
        ['TLS 1.3 pipe, both ends hashing (a straightforward Node TLS pipe, two processes)', mbps(best(pipesTls).ms).toFixed(0), pipesTls.map((p) => mbps(p.ms).toFixed(0)).join(', '), '', pipeCpu(best(pipesTls))],
        ['`manager fetch` through manager and agent', mbps(fetch.ms).toFixed(0), fetches.map((f) => `${mbps(f.ms).toFixed(0)}${f.code === 0 && f.sha === sha ? '' : ` (FAILED: exit ${f.code}, ${f.out})`}`).join(', '),
          `manager ${fmt.mib(fetch.mgrHwmKiB)}, agent ${fmt.mib(fetch.agentHwmKiB)}, CLI ${fmt.mib(fetch.cliHwmKiB)}`,
          `manager ${fetch.mgrCpuS.toFixed(2)} s, agent ${fetch.agentCpuS.toFixed(2)} s, CLI ${fetch.cliCpuS.toFixed(2)} s`],
      ]),
      '',
      `Ratios in this run: the fetch runs at ${(ratio * 100).toFixed(0)}% of the plain pipe and at ${((mbps(fetch.ms) / mbps(best(pipesTls).ms)) * 100).toFixed(0)}% of the TLS pipe with both ends hashing.`,
      '',
      ...profile,
    ];
    return {
      body, goals,
      commands: ['manager fetch source <file> <dest> --data-dir <tmp>', 'agent --manager 127.0.0.1:<port> --udp-port <port> --name source --state-dir <tmp>', 'node -e <sender> <file> / node -e <receiver> <port> <dest>'],
    };
  },
};

// File transfer: one file fetched from an agent through the manager with the CLI
// (`manager fetch <agent> <path> <dest>`), against scp from a private sshd (scp-peer.ts) and a
// plain Node TCP pipe of the same file on loopback (the practical limit), with the peak RSS and
// the CPU seconds of every process during it.

import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { loadOrCreateIdentity } from '../../common/security/tls-identity.ts';
import { dirname, join } from 'node:path';
import { CLK_TCK, hwmKiB, processTree, readStat, rssKiB, CpuMeter } from './proc-stats.ts';
import { fmt, MANAGER_JS, sleep, spawnNode, spawnProc, startAgentProc, startManager, tempDir, waitOnline, type Proc } from './procs.ts';
import { monoUs, newestProfile, profileMarkdown, summarize } from './profile.ts';
import { table, type Ctx, type Goal, type Outcome, type Scenario } from './report.ts';
import { ensureSshd, startScpPeer, type ScpPeer } from './scp-peer.ts';

interface ScpRun {
  ms: number;
  code: number | null;
  ok: boolean;
  scpCpuS: number;
  sshdCpuS: number;
  out: string;
}

const MIB = 1024 * 1024;

/** A file of `mib` MiB of random-looking bytes (a 1 MiB random block, each copy varied). */
export function makeFile(path: string, mib: number): void {
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
  const agent: Proc = startAgentProc(mgr, 'source', ['--files-root', dirname(file)], prof ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', prof.agent] } : {});
  const outDir = tempDir('hw-bench-fetch-');
  const dest = join(outDir, 'copy.bin');
  try {
    await waitOnline(mgr, 'source');
    await sleep(1000);
    const before = { mgr: rssKiB(mgr.pid) ?? 0, agent: rssKiB(agent.pid) ?? 0 };
    ctx.log(`  fetch ${mib} MiB through the manager (manager RSS ${fmt.mib(before.mgr)}, agent ${fmt.mib(before.agent)} before; peak so far ${fmt.mib(hwmKiB(mgr.pid) ?? 0)}, ${fmt.mib(hwmKiB(agent.pid) ?? 0)})`);
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
    const gib = mib / 1024;
    const dir = tempDir('hw-bench-xfer-');
    const file = join(dir, 'big.bin');
    makeFile(file, mib);
    const size = statSync(file).size;
    const expected = createHash('sha256');
    // The file is in the page cache now for every run alike; its sha256 checks the fetched copy.
    for await (const c of createReadStream(file)) expected.update(c as Buffer);
    const sha = expected.digest('hex');
    const mbps = (ms: number) => size / 1e6 / (ms / 1000);
    const perGib = (s: number) => (s / gib).toFixed(2);
    // The pipes' CPU is polled from /proc (percent of a core over the run): as s/GiB, roughly.
    const pipeCpu = (p: PipeRun) => `sender ${perGib((p.senderCpu / 100) * (p.ms / 1000))}, receiver ${perGib((p.recvCpu / 100) * (p.ms / 1000))}`;

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
    // scp from a private sshd, the peer an administrator would use (installed here if need be).
    const sshd = ensureSshd(ctx.log);
    let scpPeer: ScpPeer | undefined;
    let scpWhy = sshd.ok ? '' : sshd.why;
    if (sshd.ok) {
      try {
        scpPeer = await startScpPeer();
      } catch (err) {
        scpWhy = `the private sshd did not start: ${(err as Error).message.slice(0, 300)}`;
      }
    }
    if (scpWhy) ctx.log(`  no scp: ${scpWhy}`);
    const scps: ScpRun[] = [];
    const fetches: FetchRun[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        pipes.push(await plainPipe(file, join(dir, 'pipe.bin'), 'plain', tlsFiles));
        if (!ctx.quick) pipesSha.push(await plainPipe(file, join(dir, 'pipe.bin'), 'sha', tlsFiles));
        pipesTls.push(await plainPipe(file, join(dir, 'pipe.bin'), 'tls-sha', tlsFiles));
        if (scpPeer) {
          const dest = join(dir, 'scp.bin');
          const r = await scpPeer.copy(file, dest);
          const ok = r.code === 0 && existsSync(dest) && statSync(dest).size === size;
          scps.push({ ...r, ok });
          rmSync(dest, { force: true });
        }
        fetches.push(await fetchThrough(ctx, file, mib, false));
      }
    } finally {
      await scpPeer?.stop();
    }
    const best = <T extends { ms: number }>(xs: T[]) => xs.reduce((a, b) => (b.ms < a.ms ? b : a));
    const pipe = best(pipes);
    const ok = fetches.filter((f) => f.code === 0 && f.sha === sha);
    const fetch = ok.length ? best(ok) : fetches[0]!;
    const scpOk = scps.filter((r) => r.ok);
    const scp = scpOk.length ? best(scpOk) : undefined;
    const vsScp = scp ? mbps(fetch.ms) / mbps(scp.ms) : 0;
    const peakMgr = Math.max(...fetches.map((f) => f.mgrHwmKiB));
    const peakAgent = Math.max(...fetches.map((f) => f.agentHwmKiB));
    const goals: Goal[] = [{
      goal: `1 GiB \`manager fetch\` at 1.5 times scp's speed or better in the same run, sha256 checked end to end, peak RSS of manager and agent each under 100 MB`,
      figure: `${mbps(fetch.ms).toFixed(0)} MB/s against scp's ${scp ? `${mbps(scp.ms).toFixed(0)} MB/s (${vsScp.toFixed(2)} times)` : `(no scp: ${scpWhy || 'every scp run failed'})`}; sha256 ${ok.length === fetches.length ? 'matched in every run' : `wrong or missing in ${fetches.length - ok.length} of ${fetches.length} runs`}; peak RSS manager ${fmt.mib(peakMgr)}, agent ${fmt.mib(peakAgent)}`,
      met: ctx.quick || !scp ? null : ok.length === fetches.length && vsScp >= 1.5 && peakMgr * 1024 < 100e6 && peakAgent * 1024 < 100e6,
    }];
    let profile: string[] = [];
    if (ctx.profile && !ctx.quick) {
      ctx.log('  profiled fetch');
      profile = (await fetchThrough(ctx, file, mib, true)).profile ?? [];
    }
    rmSync(file, { force: true });
    const fetchCpu = (f: FetchRun) => `manager ${perGib(f.mgrCpuS)}, agent ${perGib(f.agentCpuS)}, CLI ${perGib(f.cliCpuS)} (total ${perGib(f.mgrCpuS + f.agentCpuS + f.cliCpuS)})`;
    const body = [
      `A ${mib} MiB file (${fmt.int(size)} bytes, in the page cache), best of ${runs} runs each, every path in the same run, one after the other.`,
      'The fetch is the CLI as a user runs it, timed from its start to its exit (its own start-up, ~0.1 s, included): the agent reads and hashes',
      'the file, sends it over TLS 1.3 to the manager, which streams it over HTTP (on its Unix socket in the data folder, which the CLI prefers)',
      'to the CLI, which hashes and writes it; the CLI compares its sha256 with the agent\'s, and the copy\'s is checked against the original here.',
      `scp: OpenSSH's \`scp\` (${sshd.ok ? sshd.version : 'not available'}${scpPeer ? `, cipher ${scpPeer.cipher} as negotiated` : ''}) from a private \`sshd -D -f <own config>\` on a free loopback`,
      'port, a throwaway host key and user key; its CPU is scp with its ssh, and the sshd session processes.',
      scpWhy ? `**No scp figure in this run: ${scpWhy}.**` : '',
      'The plain pipe: one Node process `createReadStream(file).pipe(socket)`, another `socket.pipe(createWriteStream(dest))`, on 127.0.0.1;',
      'the TLS pipe is the same over TLS 1.3 with a sha256 at each end. Peak RSS is VmHWM (since start). CPU in seconds per GiB (utime + stime):',
      'the figure that does not depend on what else the machine runs, unlike MB/s (2 cores, shared with other work).',
      '',
      ...table(['path', 'MB/s (best)', 'every run', 'peak RSS', 'CPU s/GiB'], [
        ['plain Node TCP pipe', mbps(pipe.ms).toFixed(0), pipes.map((p) => mbps(p.ms).toFixed(0)).join(', '), `sender ${fmt.mib(pipe.peakKiB)}`, pipeCpu(pipe)],
        ...(pipesSha.length ? [['plain pipe, receiver hashing (sha256)', mbps(best(pipesSha).ms).toFixed(0), pipesSha.map((p) => mbps(p.ms).toFixed(0)).join(', '), '', pipeCpu(best(pipesSha))]] : []),
        ['TLS 1.3 pipe, both ends hashing (a straightforward Node TLS pipe, two processes)', mbps(best(pipesTls).ms).toFixed(0), pipesTls.map((p) => mbps(p.ms).toFixed(0)).join(', '), '', pipeCpu(best(pipesTls))],
        ...(scps.length ? [[`\`scp\` from a private sshd (${scpPeer?.cipher ?? ''})`, scp ? mbps(scp.ms).toFixed(0) : 'failed',
          scps.map((r) => `${mbps(r.ms).toFixed(0)}${r.ok ? '' : ` (FAILED: exit ${r.code}, ${r.out})`}`).join(', '), '',
          scp ? `scp+ssh ${perGib(scp.scpCpuS)}, sshd ${perGib(scp.sshdCpuS)} (total ${perGib(scp.scpCpuS + scp.sshdCpuS)})` : '']] : []),
        ['`manager fetch` through manager and agent', mbps(fetch.ms).toFixed(0), fetches.map((f) => `${mbps(f.ms).toFixed(0)}${f.code === 0 && f.sha === sha ? '' : ` (FAILED: exit ${f.code}, ${f.out})`}`).join(', '),
          `manager ${fmt.mib(fetch.mgrHwmKiB)}, agent ${fmt.mib(fetch.agentHwmKiB)}, CLI ${fmt.mib(fetch.cliHwmKiB)}`, fetchCpu(fetch)],
      ]),
      '',
      `Ratios in this run: the fetch runs at ${scp ? `${vsScp.toFixed(2)} times scp's speed, ` : ''}${((mbps(fetch.ms) / mbps(pipe.ms)) * 100).toFixed(0)}% of the plain pipe and at ${((mbps(fetch.ms) / mbps(best(pipesTls).ms)) * 100).toFixed(0)}% of the TLS pipe with both ends hashing.`,
      `CPU per GiB of every fetch run: ${fetches.map(fetchCpu).join('; ')}.`,
      '',
      ...profile,
    ].filter((l, i, a) => l !== '' || a[i - 1] !== '');
    return {
      body, goals,
      commands: [
        'manager fetch source <file> <dest> --data-dir <tmp>', 'agent --manager 127.0.0.1:<port> --udp-port <port> --name source --files-root <folder of the file> --state-dir <tmp>',
        'node -e <sender> <file> / node -e <receiver> <port> <dest>',
        '/usr/sbin/sshd -D -e -f <tmp>/sshd_config; scp -F /dev/null -i <tmp>/user_key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -P <port> <user>@127.0.0.1:<file> <dest>',
      ],
    };
  },
};

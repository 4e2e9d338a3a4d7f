// The peer for the transfer benchmark: `scp` from a private sshd on loopback, the tool an
// administrator would use instead of `manager fetch`. Debian's openssh-server is installed when it
// is missing and we can (root, apt reachable); the sshd runs with its own config on a free port,
// a throwaway host key and user key made in a temp folder, and nothing touches ~/.ssh: the client
// gets its options on the command line (no known_hosts, no config file, only our key).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { CLK_TCK, readStat, treeTicks } from './proc-stats.ts';
import { sleep, spawnProc, tempDir, type Proc } from './procs.ts';

const SSHD = '/usr/sbin/sshd';

/** sshd there, installed if need be; otherwise why not, in a sentence for the report. */
export function ensureSshd(log: (l: string) => void): { ok: true; version: string } | { ok: false; why: string } {
  if (!existsSync(SSHD)) {
    if (process.getuid?.() !== 0) return { ok: false, why: 'openssh-server is not installed and the benchmark is not running as root, so it cannot install it' };
    log('  installing openssh-server (apt-get)');
    // policy-rc.d 101: the package must not start the system's own sshd on port 22.
    const policy = '/usr/sbin/policy-rc.d';
    const ownPolicy = !existsSync(policy);
    if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    try {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const install = () => spawnSync('apt-get', ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=300', 'openssh-server'], { env, encoding: 'utf8', timeout: 600_000 });
      let r = install();
      if (r.status !== 0) {
        spawnSync('apt-get', ['update', '-qq', '-o', 'DPkg::Lock::Timeout=300'], { env, encoding: 'utf8', timeout: 600_000 });
        r = install();
      }
      if (r.status !== 0 || !existsSync(SSHD)) return { ok: false, why: `apt-get install openssh-server failed (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})` };
    } finally {
      if (ownPolicy) spawnSync('rm', ['-f', policy]);
    }
  }
  const v = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  if (v.error) return { ok: false, why: 'sshd is installed but the ssh client (openssh-client) is missing' };
  return { ok: true, version: (v.stderr || v.stdout).trim() };
}

/** A port the OS says is free on 127.0.0.1 (sshd takes a number, not 0). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface ScpPeer {
  port: number;
  /** "chacha20-poly1305@openssh.com", as the client and this sshd negotiate it */
  cipher: string;
  /** Copies `remote` (a path on this host, through sshd) to `local`; CPU seconds of both ends. */
  copy(remote: string, local: string): Promise<{ ms: number; code: number | null; scpCpuS: number; sshdCpuS: number; out: string }>;
  stop(): Promise<void>;
}

/** Starts the private sshd; `stop()` kills it. */
export async function startScpPeer(): Promise<ScpPeer> {
  const dir = tempDir('hw-bench-ssh-');
  const user = userInfo().username;
  const keygen = (file: string) => {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hostwatch-bench', '-f', file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
  };
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'user_key'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user_key.pub')), { mode: 0o600 });
  // Privilege separation needs this folder; a system that never ran sshd has none.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`, `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, `AllowUsers ${user}`, 'PermitRootLogin prohibit-password',
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'PrintMotd no',
    'Subsystem sftp internal-sftp', 'LogLevel ERROR', '',
  ].join('\n'));
  const sshd: Proc = spawnProc(SSHD, ['-D', '-e', '-f', config]);
  const clientOpts = [
    '-F', '/dev/null', '-i', join(dir, 'user_key'), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
  ];
  // Ready once a login works; the same login, verbose, says which cipher was chosen.
  let cipher = '';
  for (let i = 0; i < 100 && !cipher; i++) {
    if (sshd.child.exitCode !== null) throw new Error(`sshd exited: ${sshd.output()}`);
    // ssh keeps the first value given for an option: the verbose level goes before ours.
    const r = spawnSync('ssh', ['-o', 'LogLevel=DEBUG1', ...clientOpts, '-p', String(port), `${user}@127.0.0.1`, 'true'], { encoding: 'utf8', timeout: 20_000 });
    if (r.status === 0) cipher = /kex: server->client cipher: (\S+)/.exec(r.stderr)?.[1] ?? 'unknown';
    else await sleep(100);
  }
  if (!cipher) {
    await sshd.kill('SIGTERM', 2000);
    throw new Error(`could not log in to the private sshd: ${sshd.output()}`);
  }
  return {
    port, cipher,
    async copy(remote, local) {
      const before = treeTicks(sshd.pid);
      const t0 = performance.now();
      // bash's `times` after scp exits: scp's own CPU and that of the ssh it ran.
      const scp = spawnProc('bash', ['-c', '"$@"; rc=$?; times; exit $rc', 'scp', 'scp', '-q', ...clientOpts, '-P', String(port), `${user}@127.0.0.1:${remote}`, local]);
      const code = await scp.exited;
      const ms = performance.now() - t0;
      // The session's sshd processes are reaped by the listener by now: their CPU is in its cutime.
      for (let i = 0; i < 50 && treeTicks(sshd.pid) !== (readStat(sshd.pid)?.ticks ?? -1); i++) await sleep(20);
      const sshdCpuS = (treeTicks(sshd.pid) - before) / CLK_TCK;
      const times = scp.output().trim().split('\n').pop()!.trim().split(/\s+/);
      const secs = (t: string) => { const m = /^(\d+)m([\d.]+)s$/.exec(t); return m ? Number(m[1]) * 60 + Number(m[2]) : 0; };
      return { ms, code, scpCpuS: secs(times[0] ?? '') + secs(times[1] ?? ''), sshdCpuS, out: scp.output().trim().split('\n').slice(0, -2).join(' ').slice(0, 300) };
    },
    async stop() {
      await sshd.kill('SIGTERM', 2000);
    },
  };
}

// The peers the agent is compared with, run on loopback from temporary configurations:
// prometheus-node-exporter (scraped over HTTP) and zabbix_agentd (polled with its passive-check
// protocol, spoken here: there is no zabbix_get in Debian 12); and Glances, the per-process
// monitor (host-load.ts starts it). Installed with apt where possible.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { get } from 'node:http';
import { join } from 'node:path';
import { listeningPorts } from './proc-stats.ts';
import { Fatal, spawnProc, tempDir, waitFor, type Proc } from './procs.ts';

export const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
export const ZABBIX_AGENTD = '/usr/sbin/zabbix_agentd';
export const GLANCES = '/usr/bin/glances';
const PACKAGES = ['prometheus-node-exporter', 'zabbix-agent', 'glances'];

/** The network interface of the default route (eth0 here), else the first non-loopback one. */
export function defaultInterface(): string {
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1] === '00000000' && f[0]) return f[0];
    }
    for (const line of readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2)) {
      const name = line.split(':')[0]?.trim();
      if (name && name !== 'lo') return name;
    }
  } catch {
    // fall through
  }
  return 'lo';
}

/**
 * Installs the peers with apt when they are missing and `install` is true. Returns what is
 * missing afterwards, with the reason. Services are kept from starting during the install (a
 * policy-rc.d that says no), so nothing is left listening on their default ports.
 */
export function ensurePeers(install: boolean, log: (l: string) => void): { missing: string[]; note: string } {
  const have = () => [NODE_EXPORTER, ZABBIX_AGENTD, GLANCES].filter((f) => !existsSync(f));
  let missing = have();
  if (!missing.length) return { missing, note: 'the peers were already installed' };
  if (!install) return { missing, note: `not installed (${missing.join(', ')}); quick mode does not install them: \`apt-get install ${PACKAGES.join(' ')}\`` };
  if (process.getuid?.() !== 0) return { missing, note: `not installed (${missing.join(', ')}) and not root, so apt cannot install them` };
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  try {
    if (ownPolicy) writeFileSync(policy, '#!/bin/sh\n# hostwatch bench: no service starts during the install\nexit 101\n', { mode: 0o755 });
    log(`apt-get update, then apt-get install ${PACKAGES.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const up = spawnSync('apt-get', ['update'], { env, encoding: 'utf8', timeout: 300_000 });
    if (up.status !== 0) return { missing, note: `apt-get update failed (${(up.stderr || up.error?.message || '').trim().split('\n').pop()}): peers not measured` };
    const inst = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...PACKAGES], { env, encoding: 'utf8', timeout: 600_000 });
    missing = have();
    if (inst.status !== 0 || missing.length) {
      return { missing, note: `apt-get install ${PACKAGES.join(' ')} failed (${(inst.stderr || inst.error?.message || '').trim().split('\n').pop()}): ${missing.join(', ')} not measured` };
    }
    return { missing, note: `installed now with apt (${PACKAGES.join(', ')})` };
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

export function packageVersion(pkg: string): string {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

// ---- node_exporter --------------------------------------------------------------------------------

/** Collectors that give the seven values: cpu, meminfo, filesystem, netdev, stat (boot time), time, processes. */
export const SEVEN_COLLECTORS = ['cpu', 'meminfo', 'filesystem', 'netdev', 'stat', 'time', 'processes'];

export async function startNodeExporter(collectors: string[] | 'defaults'): Promise<Proc & { port: number; args: string[] }> {
  const args = ['--web.listen-address=127.0.0.1:0', ...(collectors === 'defaults' ? [] : ['--collector.disable-defaults', ...collectors.map((c) => `--collector.${c}`)])];
  const p = spawnProc(NODE_EXPORTER, args);
  // Port 0: the kernel picks one; read it back from the process's listening socket.
  const port = await waitFor(() => {
    if (p.child.exitCode !== null) throw new Fatal(`node_exporter exited: ${p.output().slice(-500)}`);
    return listeningPorts(p.pid)[0];
  }, 10_000, 'node_exporter to listen');
  return { ...p, port, args };
}

export function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.setTimeout(5000, () => req.destroy(new Error('scrape timed out')));
    req.on('error', reject);
  });
}

/** The seven values out of an exposition, for the record (CPU as seconds counters, summed). */
export function sevenFromExposition(text: string, iface: string): Record<string, number | null> {
  const one = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  let idle = 0;
  let all = 0;
  for (const m of text.matchAll(/^node_cpu_seconds_total\{cpu="\d+",mode="(\w+)"\} (\S+)$/gm)) {
    all += Number(m[2]);
    if (m[1] === 'idle' || m[1] === 'iowait') idle += Number(m[2]);
  }
  const boot = one(/^node_boot_time_seconds (\S+)$/m);
  const now = one(/^node_time_seconds (\S+)$/m);
  return {
    cpuBusySeconds: all ? all - idle : null,
    memAvailableBytes: one(/^node_memory_MemAvailable_bytes (\S+)$/m),
    rootAvailBytes: one(/^node_filesystem_avail_bytes\{[^}]*mountpoint="\/"[^}]*\} (\S+)$/m),
    netRxBytes: one(new RegExp(`^node_network_receive_bytes_total\\{device="${iface}"\\} (\\S+)$`, 'm')),
    netTxBytes: one(new RegExp(`^node_network_transmit_bytes_total\\{device="${iface}"\\} (\\S+)$`, 'm')),
    uptimeSeconds: boot !== null && now !== null ? Math.round(now - boot) : null,
    processCount: one(/^node_processes_pids (\S+)$/m),
  };
}

// ---- zabbix_agentd ---------------------------------------------------------------------------------

export function zabbixKeys(iface: string): string[] {
  return ['system.cpu.util', 'vm.memory.size[pavailable]', 'vfs.fs.size[/,pused]', `net.if.in[${iface}]`, `net.if.out[${iface}]`, 'system.uptime', 'proc.num[]'];
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * Starts zabbix_agentd in the foreground on loopback. Its ListenPort must be 1024-32767 (0 is not
 * allowed), so a free one is picked at random in 20000-32767 and another tried if it was taken.
 */
export async function startZabbix(): Promise<Proc & { port: number; conf: string }> {
  const dir = tempDir('hw-bench-zbx-');
  let lastErr = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12767);
    if (!(await portFree(port))) continue;
    const conf = join(dir, 'zabbix_agentd.conf');
    writeFileSync(conf, [
      `LogType=file`, `LogFile=${join(dir, 'zabbix_agentd.log')}`, `PidFile=${join(dir, 'zabbix_agentd.pid')}`,
      'Server=127.0.0.1', 'ListenIP=127.0.0.1', `ListenPort=${port}`, 'Hostname=hostwatch-bench', 'AllowRoot=1', 'StartAgents=3', '',
    ].join('\n'));
    const p = spawnProc(ZABBIX_AGENTD, ['-f', '-c', conf]);
    try {
      await waitFor(async () => {
        if (p.child.exitCode !== null) throw new Fatal('exited');
        return (await zabbixGet(port, 'agent.ping')) === '1';
      }, 10_000, 'zabbix_agentd to answer', 200);
      return { ...p, port, conf };
    } catch {
      let log = '';
      try {
        log = readFileSync(join(dir, 'zabbix_agentd.log'), 'utf8').slice(-400);
      } catch {
        // no log
      }
      lastErr = `${p.output().slice(-300)} ${log}`.trim();
      await p.kill('SIGTERM', 3000);
    }
  }
  throw new Error(`zabbix_agentd would not start: ${lastErr}`);
}

/** One passive check: header "ZBXD\x01", uint32 LE length, uint32 LE reserved, the key; same back. */
export function zabbixGet(port: number, key: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(key, 'utf8');
    const head = Buffer.alloc(13);
    head.write('ZBXD', 0, 'latin1');
    head[4] = 1;
    head.writeUInt32LE(body.length, 5);
    head.writeUInt32LE(0, 9);
    const s = connect({ host: '127.0.0.1', port });
    const parts: Buffer[] = [];
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`zabbix ${key}: timed out`)));
    s.on('connect', () => s.end(Buffer.concat([head, body])));
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', reject);
    s.on('close', () => {
      const all = Buffer.concat(parts);
      if (all.length < 13 || all.toString('latin1', 0, 4) !== 'ZBXD') return reject(new Error(`zabbix ${key}: bad answer (${all.length} bytes)`));
      const text = all.subarray(13, 13 + all.readUInt32LE(5)).toString('utf8');
      if (text.startsWith('ZBX_NOTSUPPORTED')) return reject(new Error(`zabbix ${key}: ${text.replace(/\0/g, ' ')}`));
      resolve(text);
    });
  });
}

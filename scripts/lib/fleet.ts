// Simulated agents for tests, the soak and the benchmarks: real Agent objects speaking the real
// protocol (TLS, hello, reports, alerts, commands) through common/, many in one process, with
// made-up measurements instead of the host's.

import { createHash } from 'node:crypto';
import { Agent, type AgentDeps } from '../../common/agent/agent.ts';
import { Backoff } from '../../common/util/backoff.ts';
import type { TlsIdentity } from '../../common/security/tls-identity.ts';
import type { ProcessRow, ProcessSort, TopProcesses } from '../../common/collect/types.ts';

export interface FleetOptions {
  count: number;
  tcpPort: number;
  udpPort: number;
  host?: string;
  tls: TlsIdentity;
  enrollToken?: string;
  intervalS?: number;
  namePrefix?: string;
  /** reconnect backoff; defaults to the product's (0.5 s doubling to 30 s) */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  heartbeatMs?: number;
  /** how long to take starting them all (spreads the first connections) */
  rampMs?: number;
  udp?: boolean;
  /**
   * Connect agent i from its own loopback address (127.10.x.y) as real hosts would, instead of all
   * from 127.0.0.1, which the manager's per-address rate limit would slow to 20 a second.
   */
  spreadSources?: boolean;
}

/** A distinct loopback source address for simulated agent i. */
export function sourceAddress(i: number): string {
  return `127.10.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
}

export interface Fleet {
  agents: Agent[];
  /** how many are connected and accepted right now */
  connected(): number;
  /** time of each agent's latest (re)connection, ms since epoch */
  connectTimes: number[];
  stop(): Promise<void>;
}

export function simulatedDeps(seed: number): AgentDeps {
  let rx = 1e9 + seed * 1000;
  let tx = 5e8 + seed * 1000;
  const started = Date.now();
  return {
    async sample() {
      rx += 10_000 + (seed % 100);
      tx += 5_000;
      return {
        at: Date.now(),
        metrics: {
          cpuPercent: 5 + (seed % 40), memPercent: 30 + (seed % 50), diskPercent: 40 + (seed % 30), netRxBytes: rx, netTxBytes: tx,
          uptimeSeconds: Math.round((Date.now() - started) / 1000) + 86400, processCount: 100 + (seed % 200), netRxRate: 10_000, netTxRate: 5_000,
        },
      };
    },
    async status() {
      const s = await this.sample();
      return {
        at: s.at, hostname: `sim-${seed}`, platform: 'linux', release: 'sim', arch: 'x64', metrics: s.metrics,
        disks: [{ mount: '/', fs: '/dev/sim', type: 'ext4', size: 1e11, used: 4e10, available: 6e10, percent: 40 }],
        interfaces: [{ name: 'eth0', rxBytes: rx, txBytes: tx, rxRate: 10_000, txRate: 5_000 }],
      };
    },
    async processCount() {
      return { processCount: 100 + (seed % 200) };
    },
    cpuPercent: () => 5 + (seed % 40),
    async readLogs() {
      return { source: 'simulated', lines: ['simulated log line'] };
    },
    async restart() {},
  };
}

/**
 * Measurements a test or benchmark drives: CPU is whatever `cpu` holds (set it to cross the
 * alert threshold), memory `mem`, swap `swap`, the mounts `mounts`, the rest fixed; `status` is
 * not answered; restarts are counted, not done; `samples` counts the report samples taken.
 */
export function drivenDeps(): AgentDeps & {
  cpu: number | null; mem: number | null; swap: number | null; mounts: { mount: string; type: string; percent: number | null }[];
  restarts: number; samples: number;
  /** the host's processes as the test sets them: topProcesses answers the first n by cpu or mem */
  processes: ProcessRow[];
} {
  const d = {
    cpu: 5 as number | null,
    mem: 10 as number | null,
    swap: 0 as number | null,
    mounts: [{ mount: '/', type: 'ext4', percent: 20 as number | null }],
    restarts: 0,
    samples: 0,
    processes: [] as ProcessRow[],
    sample: async () => {
      d.samples++;
      return { at: Date.now(), metrics: { cpuPercent: d.cpu, memPercent: d.mem, diskPercent: 20, netRxBytes: 1, netTxBytes: 2, uptimeSeconds: 3, processCount: 4 } };
    },
    status: async () => { throw new Error('status is not answered by driven measurements'); },
    processCount: async () => ({ processCount: 4 }),
    cpuPercent: () => d.cpu,
    readLogs: async () => ({ source: 'driven', lines: [] }),
    restart: async () => { d.restarts++; },
    ruleExtras: async () => ({ swap: d.swap, mounts: d.mounts.map((m) => ({ ...m })) }),
    topProcesses: async (o: { n: number; sort: ProcessSort }): Promise<TopProcesses> => {
      const key = o.sort === 'mem' ? 'memBytes' : o.sort === 'io' ? 'ioBytesPerSec' : 'cpuPercent';
      const rows = d.processes.map((p) => ({ ...p })).sort((a, b) => (b[key] ?? -1) - (a[key] ?? -1));
      return { at: Date.now(), total: rows.length, processes: rows.slice(0, o.n) };
    },
  };
  return d;
}

/** A UUID-shaped agent id made from `text`: the same simulated agent has the same id on every run. */
export function uuidOf(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const agents: Agent[] = [];
  const connectTimes: number[] = new Array(o.count).fill(0);
  const ramp = o.rampMs ?? 0;
  for (let i = 0; i < o.count; i++) {
    const agent = new Agent({
      managers: [{ host: o.host ?? '127.0.0.1', port: o.tcpPort }], udpPort: o.udpPort, tls: o.tls,
      id: uuidOf(`sim-${(o.namePrefix ?? 'sim')}-${i}`), name: `${o.namePrefix ?? 'sim'}-${i}`, intervalS: o.intervalS ?? 1,
      cpuThreshold: 101, cpuForS: 3, allowRestart: false, logFiles: [], noUdp: !o.udp, processesEveryMs: 0,
      ...(o.spreadSources ? { bind: sourceAddress(i) } : {}),
      ...(o.enrollToken ? { enrollToken: o.enrollToken } : {}),
      ...(o.heartbeatMs ? { heartbeatMs: o.heartbeatMs } : {}),
      backoff: new Backoff({ ...(o.backoffBaseMs ? { baseMs: o.backoffBaseMs } : {}), ...(o.backoffCapMs ? { capMs: o.backoffCapMs } : {}) }),
    }, simulatedDeps(i));
    agent.on('connected', () => { connectTimes[i] = Date.now(); });
    agents.push(agent);
    agent.start();
    if (ramp && i % 100 === 99) await new Promise((r) => setTimeout(r, (ramp * 100) / o.count));
  }
  return {
    agents,
    connectTimes,
    connected: () => agents.filter((a) => a.connected).length,
    stop: async () => {
      await Promise.all(agents.map((a) => a.stop()));
    },
  };
}

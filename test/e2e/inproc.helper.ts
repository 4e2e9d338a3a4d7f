// A real manager (sockets, API, event log) and real Agent objects in the test's own process, so a
// test can drive the agent's CPU reading and watch the state directly.

import { Agent, type AgentConfig, type AgentDeps } from '../../common/agent/agent.ts';
import { Backoff } from '../../common/util/backoff.ts';
import { Allowlist } from '../../common/security/allowlist.ts';
import { loadOrCreateIdentity, type TlsIdentity } from '../../common/security/tls-identity.ts';
import { serve, type ServeConfig, type Serving } from '../../common/serve/serve.ts';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'uvu';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';
import { killAll } from './procs.helper.ts';

/** Measurements the test drives (CPU in `cpu`), shared with the benchmarks. */
export { drivenDeps } from '../../scripts/lib/fleet.ts';

export interface ServeTestOptions {
  allow?: string[];
  dataDir?: string;
  port?: number;
  udpPort?: number;
  heartbeatMs?: number;
  autoAccept?: boolean;
  startGraceMs?: number;
  tuning?: ServeConfig['tuning'];
  web?: ServeConfig['web'];
  metrics?: ServeConfig['metrics'];
  notify?: ServeConfig['notify'];
}

export async function serveTest(opts: ServeTestOptions = {}): Promise<Serving & { dataDir: string }> {
  const dataDir = opts.dataDir ?? tempDir('hw-mgr-');
  const s = await serve({
    host: '127.0.0.1', port: opts.port ?? 0, udpPort: opts.udpPort ?? 0, allow: Allowlist.parse(opts.allow), api: { host: '127.0.0.1', port: 0 },
    apiPublic: false, dataDir, console: false, out: () => {}, autoAccept: opts.autoAccept ?? true, ...(opts.startGraceMs !== undefined ? { startGraceMs: opts.startGraceMs } : {}), ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
    ...(opts.tuning ? { tuning: opts.tuning } : {}), ...(opts.web ? { web: opts.web } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}), ...(opts.notify ? { notify: opts.notify } : {}),
  });
  return { ...s, dataDir };
}


let shared: Promise<TlsIdentity> | undefined;
/** One key for the test process's agents (each has its own id): making keys takes ~20 ms each. */
export function testIdentity(): Promise<TlsIdentity> {
  shared ??= loadOrCreateIdentity(tempDir('hw-id-'), 'agent', 'test-agent');
  return shared;
}

export async function testAgent(s: { tcpPort: number; udpPort: number }, deps: AgentDeps, extra: Partial<AgentConfig> = {}): Promise<Agent> {
  const agent = new Agent({
    tls: await testIdentity(),
    managers: [{ host: '127.0.0.1', port: s.tcpPort }], udpPort: s.udpPort, id: randomUUID(),
    name: 'inproc', stateDir: tempDir('hw-agent-'), intervalS: 1, cpuThreshold: 80, cpuForS: 0.3, allowRestart: false, logFiles: [],
    cpuSampleMs: 50, alertRetryMs: 100, backoff: new Backoff({ baseMs: 50, capMs: 500 }),
    processesEveryMs: 0, // a test that wants the top processes in its samples asks (history of who)
    ...extra,
  }, deps);
  agent.start();
  return agent;
}

/**
 * Registers the clean-up every end-to-end file needs: after each test, stop the agents and close
 * what it pushed (managers, servers) and kill its processes; at the end, remove temp folders.
 */
export function cleanupAfterEach(t: Test): { agents: Agent[]; closers: (() => Promise<void> | void)[] } {
  const agents: Agent[] = [];
  const closers: (() => Promise<void> | void)[] = [];
  t.after.each(async () => {
    for (const a of agents.splice(0)) await a.stop();
    for (const c of closers.splice(0)) await c();
    await killAll();
  });
  t.after(() => cleanTempDirs());
  return { agents, closers };
}

/** The manager's record, one object a line (a torn line skipped). */
export function readEvents(dataDir: string): any[] {
  return readFileSync(join(dataDir, 'events.jsonl'), 'utf8').split('\n').flatMap((l) => {
    try {
      return l ? [JSON.parse(l)] : [];
    } catch {
      return [];
    }
  });
}

// Builds a running agent from its configuration: state folder, identity, the real measurements,
// log reading and restart, then starts it.

import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeConnectedMarker, writeRefusedMarker } from './connected-marker.ts';
import { readLogs } from '../actions/logs.ts';
import { runRestart } from '../actions/restart.ts';
import { listServices } from '../actions/services.ts';
import { Collector } from '../collect/collector.ts';
import { ruleExtras } from '../collect/rule-extras.ts';
import { processLister } from '../collect/procs.ts';
import { processCounter } from '../collect/process-match.ts';
import { runProgram } from '../util/runner.ts';
import { removeStaleTemps } from '../fs/durable.ts';
import { PRODUCT } from '../version.ts';
import { loadOrCreateIdentity } from '../security/tls-identity.ts';
import { Agent, type AgentConfig, type AgentDeps } from './agent.ts';
import { insideRoots } from './files-root.ts';
import { ensureStateDir, loadOrCreateId } from './identity.ts';

/** Seconds between reports when --interval is not given. */
export const DEFAULT_INTERVAL_S = 5;

export type StartConfig = Omit<AgentConfig, 'id' | 'name' | 'tls'> & { name?: string; stateDir: string };

export function realDeps(cfg: { restartCommand?: string }): AgentDeps {
  const collector = new Collector();
  // The alert sampler's meter shares the collector's readings of /proc/stat (one read a tick).
  const cpu = collector.cpuMeter();
  const procs = processLister(process.platform, runProgram);
  const counter = processCounter(process.platform, runProgram);
  return {
    ...(counter ? { processCounter: counter } : {}),
    ...(procs ? { topProcesses: (o) => procs.top(o) } : {}),
    ...(procs?.topNow ? { topProcessesNow: (o) => procs.topNow!(o) } : {}),
    sample: () => collector.sample(),
    status: () => collector.status(),
    processCount: () => collector.processCount(),
    cpuPercent: () => cpu.measure().percent,
    readLogs: (o) => readLogs(o),
    restart: async () => {
      const started = await runRestart(process.platform, cfg.restartCommand);
      void started.exit.then((code) => {
        if (code) process.stderr.write(`restart command exited with code ${code}\n`);
      });
    },
    ruleExtras: (want) => ruleExtras(want),
    services: (o) => listServices({ details: !!o?.details }),
    close: () => collector.close(),
  };
}

/**
 * Checks the flags and folders first (a bad --files-root must not leave a new key behind), then
 * the state folder, the id and the key. The Agent reads its state files (pins, alerts) failing
 * closed, so a broken one stops the start with its name and the fix.
 */
export async function startAgent(cfg: StartConfig, deps?: AgentDeps): Promise<Agent> {
  if (cfg.filesRoots?.length) insideRoots(cfg.filesRoots);
  ensureStateDir(cfg.stateDir);
  // Before anything is written: what a write cut short by a crash left (the spool's is its cursor).
  for (const dir of [cfg.stateDir, join(cfg.stateDir, 'spool')]) removeStaleTemps(dir, cfg.log);
  const id = loadOrCreateId(cfg.stateDir);
  const name = cfg.name ?? hostname();
  const tls = await loadOrCreateIdentity(cfg.stateDir, 'agent', `${PRODUCT}-agent-${name}`);
  if (tls.created) cfg.log?.(`created this agent's key and certificate, fingerprint ${tls.fingerprint}`);
  const agent = new Agent({ containerEngine: {}, ...cfg, id, name, tls }, deps ?? realDeps(cfg));
  // For `agent install`, which waits for it (connected-marker.ts).
  agent.on('connected', (target: { host: string; port: number }) => writeConnectedMarker(cfg.stateDir, `${target.host}:${target.port}`, agent.isAccepted));
  agent.on('refused', (target, reason) => writeRefusedMarker(cfg.stateDir, `${target.host}:${target.port}`, reason));
  agent.start();
  return agent;
}

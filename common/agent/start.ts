// Builds a running agent from its configuration: state folder, identity, the real measurements,
// log reading and restart, then starts it.

import { hostname } from 'node:os';
import { readLogs } from '../commands/logs.ts';
import { runRestart } from '../commands/restart.ts';
import { Collector } from '../metrics/collector.ts';
import { CpuMeter } from '../metrics/cpu.ts';
import { Agent, type AgentConfig, type AgentDeps } from './agent.ts';
import { ensureStateDir, loadOrCreateId } from './identity.ts';

export type StartConfig = Omit<AgentConfig, 'id' | 'name'> & { name?: string; stateDir: string };

export function realDeps(cfg: { restartCommand?: string }): AgentDeps {
  const collector = new Collector();
  const cpu = new CpuMeter();
  return {
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
    close: () => collector.close(),
  };
}

export function startAgent(cfg: StartConfig, deps?: AgentDeps): Agent {
  ensureStateDir(cfg.stateDir);
  const id = loadOrCreateId(cfg.stateDir);
  const agent = new Agent({ ...cfg, id, name: cfg.name ?? hostname() }, deps ?? realDeps(cfg));
  agent.start();
  return agent;
}

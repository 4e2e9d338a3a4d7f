// The agent simulator for the manager-scale benchmark, in its own process (so the manager's CPU is
// the manager's): a fleet of real Agent objects (scripts/lib/fleet.ts) speaking the real protocol.
// Prints one JSON line a second: { t, connected, samples } (samples: reports taken so far).
//
//   node .build/scripts/bench/sim.run.mjs --count N --port P --udp-port U --prefix NAME
//        [--ramp-ms MS] [--interval S] [--max-ms MS]
// Stops on SIGTERM/SIGINT, on stdin closing, or after --max-ms.

import { Agent } from '../../common/agent/agent.ts';
import { loadOrCreateIdentity } from '../../common/security/tls-identity.ts';
import { startFleet } from '../lib/fleet.ts';
import { cleanTempDirs, tempDir } from './procs.ts';
import { runArg } from '../lib/run-arg.ts';

const arg = (name: string, fallback?: string): string => runArg('sim', name, fallback);

const count = Number(arg('count'));
const port = Number(arg('port'));
const udpPort = Number(arg('udp-port'));
const prefix = arg('prefix');
const rampMs = Number(arg('ramp-ms', '0'));
const intervalS = Number(arg('interval', '1'));
const maxMs = Number(arg('max-ms', String(30 * 60_000)));

// Reports taken, counted by wrapping the agent's sampling step (a private method, called once
// per report: if it is ever renamed the count says -1 rather than a wrong number).
let samples = 0;
const proto = Agent.prototype as unknown as { sample?: () => Promise<unknown> };
const original = proto.sample;
if (typeof original === 'function') {
  proto.sample = function (this: unknown) {
    samples++;
    return original.call(this);
  };
} else {
  samples = -1;
}

// Every agent started, so the connected count can be printed while the ramp is still going.
const started: Agent[] = [];
const originalStart = Agent.prototype.start;
Agent.prototype.start = function (this: Agent) {
  started.push(this);
  return originalStart.call(this);
};
const connected = () => started.reduce((a, ag) => a + (ag.connected ? 1 : 0), 0);
const tick = setInterval(() => {
  process.stdout.write(JSON.stringify({ t: Date.now(), connected: connected(), started: started.length, samples }) + '\n');
}, 1000);

const tls = await loadOrCreateIdentity(tempDir('hw-sim-id-'), 'agent', `sim-${prefix}`);
const fleet = await startFleet({ count, tcpPort: port, udpPort, tls, intervalS, namePrefix: prefix, rampMs, spreadSources: true });

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(tick);
  await Promise.race([fleet.stop(), new Promise((r) => setTimeout(r, 10_000))]);
  cleanTempDirs();
  process.exit(code);
}
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
process.stdin.on('end', () => void stop(0));
process.stdin.resume();
setTimeout(() => void stop(3), maxMs).unref();

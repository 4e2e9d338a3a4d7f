// A few allowlisted hosts that open TLS connections, flood ping frames and never read, against a
// real manager process with a real agent: the manager's memory stays bounded (the figure is in
// README's security section), the flooders are cut, and the agent stays online throughout.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadOrCreateIdentity } from '../../common/security/tls-identity.ts';
import { encodeJson } from '../../common/wire/frame.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { apiJson, cliJson, startAgent, startManager, waitOnline } from './procs.helper.ts';
import { cleanupAfterEach, readEvents } from './inproc.helper.ts';

cleanupAfterEach(test);

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TLS client that never reads: it sends `first` (a hello, or nothing), then pings as fast as it may. */
async function flooder(port: number, tls: { key: string; cert: string }, first: Buffer | null, untilMs: number): Promise<{ sent: number; received: number; closed: boolean; socket: TLSSocket }> {
  const socket = connect({ host: '127.0.0.1', port, key: tls.key, cert: tls.cert, rejectUnauthorized: false });
  const st = { sent: 0, received: 0, closed: false, socket };
  socket.on('error', () => {});
  socket.on('close', () => { st.closed = true; });
  await new Promise<void>((r, j) => { socket.once('secureConnect', () => r()); socket.once('close', () => j(new Error('closed before TLS'))); });
  // Counts what arrives without consuming it into the app: paused, so the kernel buffers fill.
  socket.on('data', (d: Buffer) => { st.received += d.length; });
  socket.pause();
  if (first) socket.write(first);
  const burst = Buffer.concat(Array.from({ length: 1000 }, (_, i) => encodeJson({ type: 'ping', at: i })));
  void (async () => {
    while (!st.closed && Date.now() < untilMs) {
      if (!socket.write(burst)) await once(socket, 'drain', { signal: AbortSignal.timeout(100) }).catch(() => {});
      st.sent += burst.length;
    }
  })();
  return st;
}

test('non-reading ping flooders: manager RSS bounded, flooders cut, a real agent stays online', timed(90_000, async () => {
  const m = await startManager(['--heartbeat', '2000']);
  const agent = startAgent(m, ['--name', 'steady', '--heartbeat', '2000']);
  await waitOnline(m.dataDir, 'steady', 30_000, agent, m);
  const base = rssMiB(m.child.pid!);
  const id = await loadOrCreateIdentity(tempDir('hw-flood-'), 'agent', 'flooder');
  const until = Date.now() + Number(process.env.FLOOD_MS ?? 15_000);
  // Before hello: the manager answers nothing and closes at the first ping.
  const early = await Promise.all([0, 1].map(() => flooder(m.tcpPort, id, null, until)));
  // After a hello (pending agents): pongs are due, but never read.
  const hello = (i: number) => encodeJson({
    type: 'hello', v: 1, id: randomUUID(), name: `flooder-${i}`, hostname: 'x', platform: 'linux', arch: 'x64', version: '0', interval: 5,
    restartAllowed: false, filesEnabled: false,
  });
  // Each with a key of its own: one key is one pending entry (a second would replace the first).
  const keys = await Promise.all([0, 1, 2, 3].map((i) => loadOrCreateIdentity(tempDir('hw-flood-'), 'agent', `flooder-${i}`)));
  const late = await Promise.all([0, 1, 2, 3].map((i) => flooder(m.tcpPort, keys[i]!, hello(i), until)));
  let peak = base;
  const timeline: number[] = [];
  while (Date.now() < until) {
    const r = rssMiB(m.child.pid!);
    peak = Math.max(peak, r);
    timeline.push(Math.round(r));

    await sleep(100);
  }
  const heap = (await apiJson(m.dataDir, '/api/stats')).heapUsedBytes / 1048576;
  await waitFor(() => early.every((f) => f.closed), 10_000, 'pre-hello flooders closed');
  assert.ok(early.every((f) => f.received < 200), `before hello only TLS came back (${early.map((f) => f.received)} bytes)`);
  // Cut as slow peers once their pongs stay undrained (SLOW_PEER_TIMEOUT_MS), at most a bit later.
  await waitFor(() => late.every((f) => f.closed), 45_000, 'flooders cut');
  const sentMiB = late.reduce((n, f) => n + f.sent, 0) / 1024 / 1024;
  const growth = peak - base;
  // Flat once the flood is on: the last seconds add nothing (it grew 1 GiB in 8 s when unbounded).
  const settled = timeline[Math.min(20, timeline.length - 1)]!;
  const lateGrowth = Math.max(...timeline.slice(20)) - settled;
  process.stdout.write(`\n    flood: manager RSS ${base.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB (+${growth.toFixed(0)}), +${lateGrowth.toFixed(0)} MiB after the first 2 s, heap ${heap.toFixed(0)} MiB; 6 flooders offered ${sentMiB.toFixed(0)} MiB of pings\n`);
  assert.ok(growth < 150, `RSS grew by ${growth.toFixed(0)} MiB`);
  assert.ok(lateGrowth < 16, `RSS kept growing during the flood (+${lateGrowth.toFixed(0)} MiB after the first 2 s)`);
  const list = await cliJson<any[]>(m.dataDir, ['agents']);
  const steady = list.find((a) => a.name === 'steady');
  assert.ok(steady?.online, 'the real agent is still online');
  // Still reporting: heard from again after that answer (waited for, not a 5 s bound on its age,
  // which a loaded machine's slow CLI could pass).
  await waitFor(async () => {
    const again = (await cliJson<any[]>(m.dataDir, ['agents'])).find((a) => a.name === 'steady');
    return again?.online && Date.parse(again.lastSeen) > Date.parse(steady.lastSeen);
  }, 20_000, 'the real agent heard from again');
  const codes = new Set(readEvents(m.dataDir).filter((e) => e.event === 'protocol-error').map((e) => e.code));
  assert.ok(codes.has('BAD_MESSAGE'), 'a ping before hello is a protocol error');
  assert.ok(codes.has('SLOW_PEER') || codes.has('HEARTBEAT_TIMEOUT'), `flooders cut as slow peers (${[...codes]})`);
  await m.kill();
}));

test.run();

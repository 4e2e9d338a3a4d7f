// The reporter against the SampleBacklog interface, over a real socket pair. With an older manager:
// samples kept while away (bounded) go oldest first as backfill beside the live reports and are
// forgotten once sent. With one that acknowledges samples (acked-samples): every report numbered,
// nothing forgotten before its acknowledgement, the backfill within the window granted, a sample
// left unacknowledged sent again, everything unacknowledged sent again on the next connection,
// and losses told to the manager.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Reporter } from '../../common/agent/reporter.ts';
import { MemoryBacklog } from '../../common/agent/sample-backlog.ts';
import { parseAgentMessage, parseManagerMessage, type AgentMessage, type ManagerMessage, type Report } from '../../common/wire/messages.ts';
import { Peer } from '../../common/wire/peer.ts';
import { timed, waitFor } from '../harness.helper.ts';
import { socketPair, type SocketPair } from '../wire/loopback.helper.ts';

const test = suite('agent/reporter');
const pairs: SocketPair[] = [];
test.after.each(async () => {
  for (const p of pairs.splice(0)) await p.close();
});

const metrics = { cpuPercent: 1, memPercent: 1, diskPercent: 1, netRxBytes: 1, netTxBytes: 1, uptimeSeconds: 1, processCount: 1 };

async function link() {
  const p = await socketPair();
  pairs.push(p);
  const agentEnd = new Peer<ManagerMessage, AgentMessage>(p.client, { parse: parseManagerMessage });
  const managerEnd = new Peer<AgentMessage, ManagerMessage>(p.server, { parse: parseAgentMessage });
  const got: AgentMessage[] = [];
  managerEnd.on('message', (m) => got.push(m));
  const reports = () => got.filter((m): m is Report => m.type === 'report');
  return { agentEnd, managerEnd, got, reports };
}

function reporter(backlog: MemoryBacklog, o: { linked: () => Peer<ManagerMessage, AgentMessage> | undefined; now?: () => number; logs?: string[]; intervalMs?: number }) {
  let at = 0;
  // Without a clock of the test's, every reading is an interval after the last: each report() and
  // each acceptance takes a sample (never two within one interval, as the agent makes sure).
  let t = 0;
  return new Reporter({
    sample: async () => ({ at: ++at, metrics }), backlog, intervalMs: o.intervalMs ?? 60_000, link: o.linked, log: (l) => o.logs?.push(l),
    ...(o.now ? { now: o.now, resendAfterMs: 30_000 } : { now: () => (t += 60_000), resendAfterMs: 1e15 }),
  });
}

/** The manager's acknowledgements reach the reporter, as the agent routes them. */
function routeAcks(r: Reporter, end: Peer<ManagerMessage, AgentMessage>): void {
  end.on('message', (m) => {
    if (m.type === 'samples-ack') r.onAck(end, m);
  });
}

test('older manager: kept while away (bounded), sent oldest first as backfill beside the live reports, forgotten once sent', timed(10_000, async () => {
  const l = await link();
  let linked = false;
  const logs: string[] = [];
  const backlog = new MemoryBacklog(5);
  const r = reporter(backlog, { linked: () => (linked ? l.agentEnd : undefined), logs });
  for (let i = 0; i < 7; i++) await r.report(); // seven samples while away, the bound is five
  assert.is(r.backlogSize, 5);
  linked = true;
  await r.onAccepted(l.agentEnd);
  await waitFor(() => l.reports().length === 6, 5000, 'backlog and one live report');
  assert.equal(l.reports().filter((m) => m.backfill).map((m) => m.at), [3, 4, 5, 6, 7], 'backfill oldest first');
  assert.equal(l.reports().filter((m) => !m.backfill).map((m) => m.at), [8], 'the live report did not wait for it');
  assert.is(r.backlogSize, 0);
  const dropped = logs.map((x) => /^(\d+) samples dropped .*memory is full/.exec(x)).filter(Boolean).map((m) => Number(m![1]));
  // (this test's clock puts a minute between readings: each drop is logged; the agent's log says a drop at most once a minute)
  assert.is(dropped.reduce((a, b) => a + b, 0), r.figures().lost, 'every drop logged with its count');
  assert.ok(r.figures().lost >= 2);
  assert.ok(logs.some((x) => /sent 5 samples taken while away/.test(x)), logs.join('\n'));
  assert.is(l.got.filter((m) => m.type === 'samples-lost').length, 0, 'an older manager is not sent what it does not know');
  await r.report();
  await waitFor(() => l.reports().length === 7, 5000, 'live');
  assert.is(r.figures().taken, 9);
  r.stop();
}));

test('acked-samples: numbered, kept until acknowledged, backfill within the window, losses told', timed(10_000, async () => {
  const l = await link();
  let linked = false;
  const logs: string[] = [];
  const backlog = new MemoryBacklog(50);
  const r = reporter(backlog, { linked: () => (linked ? l.agentEnd : undefined), logs });
  routeAcks(r, l.agentEnd);
  for (let i = 0; i < 55; i++) await r.report(); // 5 over the bound: lost
  backlog.ack([[5, 9]]); // as if acknowledged on an earlier connection
  linked = true;
  await r.onAccepted(l.agentEnd, true, 20);
  await waitFor(() => l.reports().length === 21, 5000, 'a window of backfill and one live report');
  await new Promise((res) => setImmediate(res));
  assert.is(l.reports().length, 21, 'no more than the window in flight');
  assert.equal(l.reports().filter((m) => m.backfill).map((m) => m.seq), Array.from({ length: 20 }, (_, i) => i + 10));
  assert.equal(l.reports().filter((m) => !m.backfill).map((m) => m.seq), [55]);
  assert.is(r.backlogSize, 46, 'nothing forgotten before its acknowledgement');
  const lost = l.got.filter((m) => m.type === 'samples-lost');
  assert.equal(lost, [{ type: 'samples-lost', count: 5, reason: 'memory-full', firstAt: 1, lastAt: 5 }]);
  l.managerEnd.post({ type: 'samples-ack', ranges: [[10, 29], [55, 55]], window: 100 });
  await waitFor(() => l.reports().length === 21 + 25, 5000, 'the rest of the backfill');
  l.managerEnd.post({ type: 'samples-ack', ranges: [[30, 54]] });
  await waitFor(() => r.backlogSize === 0, 5000, 'all acknowledged');
  await waitFor(() => logs.some((x) => /45 samples taken while away are in the manager's history/.test(x)), 5000, logs.join('\n'));
  assert.equal(r.figures(), { epoch: backlog.epoch, taken: 56, lastAt: 56, unacked: 0, inFlight: 0, lost: 5, acknowledged: true });
  r.stop();
}));

test('acked-samples: unacknowledged for too long is sent again; the next connection gets all that is unacknowledged', timed(10_000, async () => {
  const l = await link();
  let now = 0;
  const backlog = new MemoryBacklog(50);
  let peer: Peer<ManagerMessage, AgentMessage> | undefined = l.agentEnd;
  const r = reporter(backlog, { linked: () => peer, now: () => now, intervalMs: 10_000 });
  routeAcks(r, l.agentEnd);
  await r.onAccepted(l.agentEnd, true, 10);
  now += 5_000; // the next tick, half an interval after the sample taken on acceptance
  await r.report();
  await waitFor(() => l.reports().length === 2, 5000, 'two live reports');
  assert.equal(l.reports().map((m) => [m.seq, !!m.backfill]), [[0, false], [1, false]]);
  l.managerEnd.post({ type: 'samples-ack', ranges: [[1, 1]] });
  await waitFor(() => backlog.size === 1, 5000, 'one acknowledged');
  now += 31_000; // the manager never acknowledged seq 0 (its history refused it): sent again at the next report
  await r.report();
  await waitFor(() => l.reports().length === 4, 5000, 'resent, and the new one');
  assert.equal(l.reports().slice(2).map((m) => [m.seq, !!m.backfill]).sort(), [[0, true], [2, false]]);
  // A new connection: what is unacknowledged goes again at once (and no new sample: one was taken
  // within the interval, so the history would have no slot for two).
  const l2 = await link();
  r.onLost();
  peer = l2.agentEnd;
  await r.onAccepted(l2.agentEnd, true, 10);
  await waitFor(() => l2.reports().length === 2, 5000, 'the unacknowledged');
  assert.equal(l2.reports().map((m) => [m.seq, !!m.backfill]).sort(), [[0, true], [2, true]]);
  now += 10_000;
  await r.onAccepted(l2.agentEnd, true, 10); // accepted again an interval later: a sample at once
  await waitFor(() => l2.reports().length === 3, 5000, 'a live report');
  assert.equal(l2.reports()[2]!.seq, 3);
  r.stop();
}));

test('a connection lost while catching up keeps what was not sent', timed(10_000, async () => {
  const l = await link();
  const backlog = new MemoryBacklog(100);
  const r = reporter(backlog, { linked: () => undefined });
  for (let i = 0; i < 10; i++) await r.report();
  l.agentEnd.fail(new Error('cut'));
  await waitFor(() => l.agentEnd.closed, 2000, 'closed');
  await r.onAccepted(l.agentEnd);
  assert.is(r.backlogSize, 11, 'nothing dropped, and the report taken meanwhile kept too');
  r.stop();
}));

test.run();

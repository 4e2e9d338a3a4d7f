// The reporter against the SampleBacklog interface: samples kept while it cannot report, sent
// oldest first and marked backfill once accepted, each dropped only after it was sent, then live
// reports. An asynchronous backlog (as an on-disk spool would be) works the same as the ring.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Reporter } from '../../common/agent/reporter.ts';
import { MemoryBacklog, type SampleBacklog } from '../../common/agent/sample-backlog.ts';
import type { Sample } from '../../common/collect/types.ts';
import { parseAgentMessage, parseManagerMessage, type AgentMessage, type ManagerMessage } from '../../common/wire/messages.ts';
import { Peer } from '../../common/wire/peer.ts';
import { timed, waitFor } from '../harness.helper.ts';
import { socketPair, type SocketPair } from '../wire/loopback.helper.ts';

const test = suite('agent/reporter');
const pairs: SocketPair[] = [];
test.after.each(async () => {
  for (const p of pairs.splice(0)) await p.close();
});

/** The ring behind promises, recording the calls: what a spool on disk looks like to the reporter. */
class AsyncBacklog implements SampleBacklog {
  readonly inner = new MemoryBacklog(5);
  readonly calls: string[] = [];
  get size(): number {
    return this.inner.size;
  }
  async push(s: Sample): Promise<void> {
    await new Promise((r) => setImmediate(r));
    this.calls.push(`push ${s.at}`);
    this.inner.push(s);
  }
  async read(max: number): Promise<readonly Sample[]> {
    await new Promise((r) => setImmediate(r));
    return this.inner.read(max);
  }
  async drop(n: number): Promise<void> {
    this.calls.push(`drop ${n}`);
    this.inner.drop(n);
  }
  takeDropped(): number {
    return this.inner.takeDropped();
  }
}

for (const kind of ['in memory', 'asynchronous'] as const) {
  test(`backlog ${kind}: kept while away (bounded), sent oldest first as backfill, beside the live reports`, timed(10_000, async () => {
    const p = await socketPair();
    pairs.push(p);
    const agentEnd = new Peer<ManagerMessage, AgentMessage>(p.client, { parse: parseManagerMessage });
    const managerEnd = new Peer<AgentMessage, ManagerMessage>(p.server, { parse: parseAgentMessage });
    const got: AgentMessage[] = [];
    managerEnd.on('message', (m) => got.push(m));
    let at = 0;
    let linked = false;
    const logs: string[] = [];
    const backlog = kind === 'in memory' ? new MemoryBacklog(5) : new AsyncBacklog();
    const r = new Reporter({
      sample: async () => ({ at: ++at, metrics: { cpuPercent: 1, memPercent: 1, diskPercent: 1, netRxBytes: 1, netTxBytes: 1, uptimeSeconds: 1, processCount: 1 } }),
      backlog, intervalMs: 60_000, link: () => (linked ? agentEnd : undefined), log: (l) => logs.push(l),
    });
    for (let i = 0; i < 7; i++) await r.report(); // seven samples while away, the bound is five
    assert.is(r.backlogSize, 5);
    assert.equal(got, []);
    linked = true;
    await r.onAccepted(agentEnd);
    await waitFor(() => got.length === 6, 5000, 'backlog and one live report');
    const reports = got.filter((m) => m.type === 'report');
    assert.equal(reports.filter((m) => m.backfill).map((m) => m.at), [3, 4, 5, 6, 7], 'backfill oldest first');
    assert.equal(reports.filter((m) => !m.backfill).map((m) => m.at), [8], 'the live report did not wait for it');
    assert.is(r.backlogSize, 0);
    assert.ok(logs.some((l) => /2 samples taken while away were dropped/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /sent 5 samples taken while away/.test(l)), logs.join('\n'));
    if (backlog instanceof AsyncBacklog) {
      const drops = backlog.calls.filter((c) => c.startsWith('drop'));
      assert.equal(drops, ['drop 5'], 'dropped as a batch once it was sent');
    }
    await r.report();
    await waitFor(() => got.length === 7, 5000, 'live');
    r.stop();
  }));
}

test('a connection lost while catching up keeps what was not sent', timed(10_000, async () => {
  const p = await socketPair();
  pairs.push(p);
  const agentEnd = new Peer<ManagerMessage, AgentMessage>(p.client, { parse: parseManagerMessage });
  let at = 0;
  const backlog = new MemoryBacklog(100);
  const r = new Reporter({
    sample: async () => ({ at: ++at, metrics: { cpuPercent: 1, memPercent: 1, diskPercent: 1, netRxBytes: 1, netTxBytes: 1, uptimeSeconds: 1, processCount: 1 } }),
    backlog, intervalMs: 60_000, link: () => undefined, log: () => {},
  });
  for (let i = 0; i < 10; i++) await r.report();
  agentEnd.fail(new Error('cut'));
  await waitFor(() => agentEnd.closed, 2000, 'closed');
  await r.onAccepted(agentEnd);
  assert.is(r.backlogSize, 11, 'nothing dropped, and the report taken meanwhile kept too');
  r.stop();
}));

test.run();

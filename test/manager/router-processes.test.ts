// A report's processes (and container usage) reach their file before the sample is taken: when the disk refuses
// them the sample is not taken (nor acknowledged, so the agent sends it again); once written, it is.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentLink } from '../../common/manager/agent-link.ts';
import { SampleAcks } from '../../common/manager/sample-acks.ts';
import { Router } from '../../common/manager/router.ts';
import { parseAgentMessage, parseManagerMessage, type AgentMessage, type ManagerMessage } from '../../common/wire/messages.ts';
import { Peer } from '../../common/wire/peer.ts';
import type { SampleProcesses } from '../../common/collect/types.ts';
import { cleanTempDirs, timed } from '../harness.helper.ts';
import { socketPair, type SocketPair } from '../wire/loopback.helper.ts';
import { oneAgentState } from './one-agent.helper.ts';

const test = suite('manager/router-processes');
const pairs: SocketPair[] = [];
test.after.each(async () => {
  for (const p of pairs.splice(0)) await p.close();
  cleanTempDirs();
});

const METRICS = { cpuPercent: 50, memPercent: 40, diskPercent: 30, netRxBytes: 1, netTxBytes: 2, uptimeSeconds: 3, processCount: 4 };
const PROCS: SampleProcesses = {
  byCpu: [{ pid: 9, name: 'burner', user: null, command: null, cpuPercent: 99, memBytes: 1, ioBytesPerSec: null, state: null, startedAt: null }], byMem: [],
};

/** A router for one accepted agent on a real socket pair; `files` stand for the process and container files. */
async function rig(files: Pick<ConstructorParameters<typeof Router>[0], 'processes' | 'containers'>) {
  const p = await socketPair();
  pairs.push(p);
  const { state } = oneAgentState('accepted');
  const link = new AgentLink('a1', new Peer<AgentMessage, ManagerMessage>(p.server, { parse: parseAgentMessage }), { ackedSamples: true });
  void new Peer<ManagerMessage, AgentMessage>(p.client, { parse: parseManagerMessage });
  const acks = new SampleAcks({ post: () => {}, pending: () => 0 });
  const router = new Router({ state, now: Date.now, acks, lost: () => {}, ...files });
  return { state, link, acks, router };
}

test('refused by the disk: not taken, not acknowledged; written: taken', timed(5000, async () => {
  let diskTakes = false;
  const written: number[] = [];
  const { state, link, acks, router } = await rig({
    processes: (id, at) => {
      assert.is(id, 'a1');
      if (diskTakes) written.push(at);
      return diskTakes;
    },
  });
  // Backfill, as a report comes again when it was not acknowledged (only backfill is looked up for repeats).
  const report = (seq: number, processes?: SampleProcesses): AgentMessage => ({ type: 'report', at: 1000 + seq, metrics: METRICS, seq, backfill: true, ...(processes ? { processes } : {}) });

  router.route(link, report(1, PROCS));
  assert.is(acks.waiting(), 0, 'not taken: the agent sends it again');
  assert.is(acks.receive('a1', 1), 'new');
  assert.is(state.counters.reports, 0);

  diskTakes = true;
  router.route(link, report(1, PROCS));
  assert.equal(written, [1001]);
  assert.is(acks.waiting(), 1, 'taken, acknowledged at the history\'s flush');
  router.route(link, report(1, PROCS));
  assert.equal(written, [1001], 'a repeat still waiting is not written twice');

  router.route(link, report(2));
  assert.equal(written, [1001], 'a report without processes writes none');
  assert.is(acks.waiting(), 2);
}));

test('the same for a report\'s container usage', timed(5000, async () => {
  let diskTakes = false;
  const written: number[] = [];
  const { state, acks, link, router } = await rig({
    containers: (_id, at, c) => {
      if (diskTakes) written.push(at, c.total);
      return diskTakes;
    },
  });
  const report: AgentMessage = { type: 'report', at: 2000, metrics: METRICS, seq: 7, backfill: true, containerUsage: { total: 4, rows: [] } };
  router.route(link, report);
  assert.is(state.counters.reports, 0, 'not taken: the agent sends it again');
  assert.is(acks.waiting(), 0);
  diskTakes = true;
  router.route(link, report);
  assert.equal(written, [2000, 4]);
  assert.is(acks.waiting(), 1);
}));

test.run();

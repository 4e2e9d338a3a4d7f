// Message routing over a real socket: an accepted agent's alert is acknowledged with its epoch
// echoed once it is recorded; a resend is acknowledged again but shown once; a pending agent's
// alert is neither stored nor acknowledged; a second hello closes the connection.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentLink } from '../../common/manager/agent-link.ts';
import { SampleAcks } from '../../common/manager/sample-acks.ts';
import { Router } from '../../common/manager/router.ts';
import { parseAgentMessage, parseManagerMessage, type AgentMessage, type ManagerMessage } from '../../common/wire/messages.ts';
import { Peer } from '../../common/wire/peer.ts';
import { HwError } from '../../common/errors.ts';
import { cleanTempDirs, timed, waitFor } from '../harness.helper.ts';
import { socketPair, type SocketPair } from '../wire/loopback.helper.ts';
import { oneAgentState } from './one-agent.helper.ts';

const test = suite('manager/router');
const pairs: SocketPair[] = [];
test.after.each(async () => {
  for (const p of pairs.splice(0)) await p.close();
  cleanTempDirs();
});

async function setup(trust: 'accepted' | 'pending') {
  const p = await socketPair();
  pairs.push(p);
  const { state, log } = oneAgentState(trust);
  const mgr = new Peer<AgentMessage, ManagerMessage>(p.server, { parse: parseAgentMessage });
  const agent = new Peer<ManagerMessage, AgentMessage>(p.client, { parse: parseManagerMessage });
  const link = new AgentLink('a1', mgr);
  const router = new Router({ state, now: Date.now, acks: new SampleAcks({ post: () => {}, pending: () => 0 }), lost: () => {} });
  mgr.on('message', (m) => router.route(link, m));
  const got: ManagerMessage[] = [];
  agent.on('message', (m) => got.push(m));
  return { state, mgr, agent, got, log };
}

const alert = (seq: number, epoch?: string): AgentMessage => ({ type: 'alert', ...(epoch ? { epoch } : {}), seq, alert: 'CPU_HIGH', value: 95, threshold: 80, at: 1000 + seq });

test('acks echo the epoch; a resend is acked again and shown once; no epoch, no epoch in the ack', timed(5000, async () => {
  const { state, agent, got, log } = await setup('accepted');
  agent.post(alert(1, 'ep-1'));
  agent.post(alert(1, 'ep-1'));
  agent.post(alert(1, 'ep-2'));
  agent.post(alert(7));
  await waitFor(() => got.length === 4, 3000, 'four acks');
  assert.equal(got, [
    { type: 'ack', epoch: 'ep-1', seq: 1 }, { type: 'ack', epoch: 'ep-1', seq: 1 }, { type: 'ack', epoch: 'ep-2', seq: 1 }, { type: 'ack', seq: 7 },
  ]);
  assert.equal(state.alerts().map((a) => [a.epoch ?? '', a.seq]), [['ep-1', 1], ['ep-2', 1], ['', 7]]);
  log.close();
}));

test('a pending agent\'s alert is not stored and not acknowledged (it keeps it until accepted)', timed(5000, async () => {
  const { state, agent, mgr, got, log } = await setup('pending');
  agent.post(alert(1, 'ep'));
  agent.post({ type: 'hello', v: 1, id: 'a1', name: 'web1', hostname: 'x', platform: 'linux', arch: 'x64', version: '0', interval: 1, restartAllowed: false, filesEnabled: true });
  const err = await new Promise((r) => mgr.once('close', r));
  assert.is((err as HwError).code, 'BAD_MESSAGE', 'a second hello closes the connection');
  assert.equal(got, []);
  assert.equal(state.alerts(), []);
  log.close();
}));

test.run();

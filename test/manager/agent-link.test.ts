// The manager's side of a file transfer over a real socket: the credit window is enforced
// (CREDIT_EXCEEDED cuts the connection), and a transfer that ends on our side (receiver gone,
// timeout) tells the agent `cancel`, once.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentLink } from '../../common/manager/agent-link.ts';
import { HwError } from '../../common/errors.ts';
import { parseAgentMessage, parseManagerMessage, type AgentMessage, type ManagerMessage } from '../../common/wire/messages.ts';
import { Peer } from '../../common/wire/peer.ts';
import { timed, waitFor } from '../harness.helper.ts';
import { socketPair, type SocketPair } from '../wire/loopback.helper.ts';

const test = suite('manager/agent-link');
const pairs: SocketPair[] = [];
test.after.each(async () => {
  for (const p of pairs.splice(0)) await p.close();
});

async function setup(windowBytes = 64 * 1024) {
  const p = await socketPair();
  pairs.push(p);
  const mgr = new Peer<AgentMessage, ManagerMessage>(p.server, { parse: parseAgentMessage });
  const agent = new Peer<ManagerMessage, AgentMessage>(p.client, { parse: parseManagerMessage });
  const link = new AgentLink('a1', mgr, { windowBytes });
  mgr.on('message', (m) => link.onMessage(m));
  mgr.on('data', (id, parts, bytes) => link.onData(id, parts, bytes));
  const atAgent: ManagerMessage[] = [];
  agent.on('message', (m) => atAgent.push(m));
  return { mgr, agent, link, atAgent };
}

const sink = (written: Buffer[] = []) => ({ start() {}, write(parts: Buffer[]) { written.push(...parts); } });

async function requestId(atAgent: ManagerMessage[]): Promise<number> {
  const req = await waitFor(() => atAgent.find((m) => m.type === 'req'), 3000, 'the req');
  return (req as { id: number }).id;
}

test('data past the credit window: CREDIT_EXCEEDED, the transfer fails and the connection is cut', timed(5000, async () => {
  const { mgr, agent, link, atAgent } = await setup(64 * 1024);
  // A sink that never finishes writing: no credit is ever sent back.
  const fetching = link.fetch('/x', { start() {}, write: () => new Promise<void>(() => {}) }).catch((e: unknown) => e);
  const id = await requestId(atAgent);
  agent.post({ type: 'file', id, size: 10 * 1024 * 1024, path: '/x' });
  const closed = new Promise<unknown>((r) => mgr.once('close', r));
  for (let i = 0; i < 8 && !agent.closed; i++) await agent.sendData(id, Buffer.alloc(16 * 1024)).catch(() => {});
  const err = await fetching;
  assert.instance(err, HwError);
  assert.is((err as HwError).code, 'CREDIT_EXCEEDED');
  assert.is(((await closed) as HwError).code, 'CREDIT_EXCEEDED');
}));

test('within the window, with credit coming back, a transfer of many windows goes through', timed(5000, async () => {
  const { agent, link, atAgent } = await setup(64 * 1024);
  const written: Buffer[] = [];
  const fetching = link.fetch('/x', sink(written));
  const id = await requestId(atAgent);
  const total = 1024 * 1024;
  agent.post({ type: 'file', id, size: total, path: '/x' });
  let sent = 0;
  let credit = 0;
  agent.on('message', (m) => { if (m.type === 'credit') credit += m.bytes; });
  while (sent < total) {
    await waitFor(() => sent - credit + 16 * 1024 <= 64 * 1024, 3000, 'credit');
    await agent.sendData(id, Buffer.alloc(16 * 1024, 1));
    sent += 16 * 1024;
  }
  agent.post({ type: 'file-end', id, bytes: total, sha256: '0'.repeat(64) });
  const r = await fetching;
  assert.is(r.bytes, total);
  assert.is(written.reduce((n, c) => n + c.length, 0), total);
}));

test('the receiver going away (abort) and an idle timeout both send cancel to the agent', timed(5000, async () => {
  const { mgr, agent, link, atAgent } = await setup();
  let chunks = 0;
  mgr.on('data', () => chunks++);
  const ac = new AbortController();
  const f1 = link.fetch('/a', sink(), ac.signal).catch((e: unknown) => e);
  const id1 = await requestId(atAgent);
  agent.post({ type: 'file', id: id1, size: 100, path: '/a' });
  ac.abort();
  assert.is(((await f1) as HwError).code, 'CANCELLED');
  await waitFor(() => atAgent.some((m) => m.type === 'cancel' && m.id === id1), 3000, 'cancel after abort');

  atAgent.length = 0;
  const f2 = link.fetch('/b', sink(), undefined, 200).catch((e: unknown) => e);
  const id2 = await requestId(atAgent);
  assert.is(((await f2) as HwError).code, 'TIMEOUT');
  await waitFor(() => atAgent.some((m) => m.type === 'cancel' && m.id === id2), 3000, 'cancel after the timeout');
  // Late chunks of the cancelled stream are dropped without a second cancel each.
  for (let i = 0; i < 5; i++) await agent.sendData(id2, Buffer.alloc(100));
  await waitFor(() => chunks === 5, 3000, 'the late chunks taken');
  // A marker sent after the chunks were taken: any cancel they caused is ahead of it.
  mgr.post({ type: 'ack', seq: 99 });
  await waitFor(() => atAgent.some((m) => m.type === 'ack'), 3000, 'the marker');
  assert.is(atAgent.filter((m) => m.type === 'cancel' && m.id === id2).length, 1);
  assert.is(link.inFlight, 0);
}));

test.run();

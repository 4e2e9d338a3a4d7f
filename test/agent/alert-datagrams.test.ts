// The agent's alert socket against a UDP "manager" of the test's own on loopback: an ack removes
// an alert only when it comes from the address and port the alerts go to, is sealed with the
// session key, and names this agent; everything else is refused and counted by reason.
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AlertDatagrams } from '../../common/agent/alert-datagrams.ts';
import { seal } from '../../common/security/udp-mac.ts';
import type { AlertMsg } from '../../common/wire/messages.ts';
import { timed, waitFor } from '../harness.helper.ts';

const test = suite('agent/alert-datagrams');

const alert: AlertMsg = { type: 'alert', epoch: 'ep-1', seq: 3, alert: 'CPU_HIGH', value: 95, threshold: 80, at: 1 };

async function udpAt(address: string): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, address);
  await once(s, 'listening');
  return s;
}

async function setup(signedAcks: boolean, host = '127.0.0.1') {
  const key = randomBytes(32);
  const manager = await udpAt('127.0.0.1');
  const acks: [number, string | undefined][] = [];
  const d = new AlertDatagrams({ agentId: 'agent-1', family: 4, onAck: (seq, epoch) => acks.push([seq, epoch]), log: () => {} });
  d.setKey(key, signedAcks);
  let agent: RemoteInfo | undefined;
  manager.on('message', (_b, from) => (agent = from));
  d.send(alert, host, manager.address().port);
  await waitFor(() => agent !== undefined, 5000, 'alert datagram');
  const ack = (o: object = {}) => Buffer.from(JSON.stringify({ type: 'ack', agentId: 'agent-1', epoch: 'ep-1', seq: 3, ...o }));
  const sendFrom = (s: Socket, b: Buffer) => new Promise<void>((r) => s.send(b, agent!.port, agent!.address, () => r()));
  const close = () => {
    d.close();
    manager.close();
  };
  return { key, manager, d, acks, ack, sendFrom, close };
}

test('only a sealed ack from the manager\'s address and port, for this agent, is taken', timed(10_000, async () => {
  const t = await setup(true);
  const outsider = await udpAt('127.0.0.2');
  const samePort = await udpAt('127.0.0.1'); // the manager's address, another port
  try {
    await t.sendFrom(outsider, seal(t.key, t.ack())); // even sealed right: not from the manager
    await t.sendFrom(samePort, seal(t.key, t.ack()));
    await t.sendFrom(t.manager, t.ack()); // unsigned
    await t.sendFrom(t.manager, seal(randomBytes(32), t.ack())); // another key
    await t.sendFrom(t.manager, seal(t.key, Buffer.from(JSON.stringify({ ...alert, agentId: 'agent-1' })))); // an alert reflected
    await t.sendFrom(t.manager, seal(t.key, t.ack({ agentId: 'agent-2' })));
    await waitFor(() => Object.values(t.d.refused()).reduce((a, b) => a + b, 0) === 6, 5000, 'six refusals');
    assert.equal(t.d.refused(), { 'not-manager': 2, 'bad-mac': 2, malformed: 1, 'other-agent': 1 });
    assert.equal(t.acks, []);
    await t.sendFrom(t.manager, seal(t.key, t.ack()));
    await waitFor(() => t.acks.length === 1, 5000, 'the genuine ack');
    assert.equal(t.acks, [[3, 'ep-1']]);
  } finally {
    outsider.close();
    samePort.close();
    t.close();
  }
}));

test('a manager named by host name: its acks come from the address the name resolved to', timed(10_000, async () => {
  const t = await setup(true, 'localhost');
  const outsider = await udpAt('127.0.0.2');
  try {
    await t.sendFrom(outsider, seal(t.key, t.ack()));
    await waitFor(() => t.d.refused()['not-manager'] === 1, 5000, 'the outsider refused');
    await t.sendFrom(t.manager, seal(t.key, t.ack()));
    await waitFor(() => t.acks.length === 1, 5000, 'the ack from the resolved address');
  } finally {
    outsider.close();
    t.close();
  }
}));

test('a manager that did not advertise signed acks: no UDP ack is taken, sealed or not', timed(10_000, async () => {
  const t = await setup(false);
  try {
    await t.sendFrom(t.manager, t.ack());
    await t.sendFrom(t.manager, seal(t.key, t.ack()));
    await waitFor(() => t.d.refused().unsigned === 2, 5000, 'two refusals');
    assert.equal(t.acks, []);
  } finally {
    t.close();
  }
}));

test.run();

// Two Peers over a real TCP connection on loopback: messages and data both ways, pings answered,
// a silent peer closed by the heartbeat, garbage closing the connection with the decoder's code,
// and a send stuck on backpressure (drain.ts) released when the connection dies.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_FRAME_BYTES } from '../../common/wire/constants.ts';
import { HwError } from '../../common/errors.ts';
import { FrameDecoder, KIND_JSON, encodeJson } from '../../common/wire/frame.ts';
import {
  parseAgentMessage, parseManagerMessage, type AgentMessage, type ManagerMessage,
} from '../../common/wire/messages.ts';
import { Peer, type PeerOptions } from '../../common/wire/peer.ts';
import { timed, waitFor } from '../harness.helper.ts';
import { socketPair, type SocketPair } from './loopback.helper.ts';

const test = suite('wire/peer');

type ManagerSide = Peer<AgentMessage, ManagerMessage>;
type AgentSide = Peer<ManagerMessage, AgentMessage>;

const pairs: SocketPair[] = [];
test.after.each(async () => {
  for (const p of pairs.splice(0)) await p.close();
});

async function pair(): Promise<SocketPair> {
  const p = await socketPair();
  pairs.push(p);
  return p;
}

function managerPeer(p: SocketPair, opts: Partial<PeerOptions<AgentMessage>> = {}): ManagerSide {
  return new Peer<AgentMessage, ManagerMessage>(p.server, { parse: parseAgentMessage, ...opts });
}
function agentPeer(p: SocketPair, opts: Partial<PeerOptions<ManagerMessage>> = {}): AgentSide {
  return new Peer<ManagerMessage, AgentMessage>(p.client, { parse: parseManagerMessage, ...opts });
}

function closeOf(peer: ManagerSide | AgentSide): Promise<HwError | Error | undefined> {
  return new Promise((resolve) => peer.once('close', resolve));
}

/** Decodes what a raw socket receives into JSON messages. */
function collectJson(sock: SocketPair['client']): unknown[] {
  const dec = new FrameDecoder();
  const got: unknown[] = [];
  sock.on('data', (chunk: Buffer) => {
    for (const f of dec.push(chunk)) if (f.kind === KIND_JSON) got.push(JSON.parse(f.body.toString('utf8')));
  });
  return got;
}

/**
 * Whether `send` is blocked: still pending once the socket's queue has not moved for 20 turns of
 * the event loop in a row (each turn lets it write what the kernel takes). Decided by the socket,
 * not by a time: on a loaded machine a send that would drain can wait longer than any bound.
 */
async function blocked(send: Promise<unknown>, sock: SocketPair['client']): Promise<boolean> {
  let done = false;
  void send.then(() => { done = true; });
  let still = 0;
  let last = sock.writableLength;
  const end = Date.now() + 5000;
  while (!done && still < 20 && Date.now() < end) {
    await new Promise((r) => setImmediate(r));
    still = sock.writableLength === last ? still + 1 : 0;
    last = sock.writableLength;
  }
  return !done;
}

const HELLO: AgentMessage = {
  type: 'hello', v: 1, id: 'agent-0001', name: 'web1', hostname: 'web1', platform: 'linux', arch: 'x64',
  version: '0.1.0', interval: 5, restartAllowed: false, filesEnabled: true,
};

test('messages both ways, in order', timed(5000, async () => {
  const p = await pair();
  const m = managerPeer(p);
  const a = agentPeer(p);
  const atManager: AgentMessage[] = [];
  m.on('message', (msg) => atManager.push(msg));
  const atAgent: ManagerMessage[] = [];
  a.on('message', (msg) => atAgent.push(msg));
  await a.send(HELLO);
  a.post({ type: 'bye', reason: 'later' });
  await waitFor(() => atManager.length >= 2, 3000, 'hello and bye at the manager');
  assert.equal(atManager, [HELLO, { type: 'bye', reason: 'later' }]);
  await m.send({ type: 'ack', seq: 3 });
  m.post({ type: 'cancel', id: 4 });
  await waitFor(() => atAgent.length >= 2, 3000, 'ack and cancel at the agent');
  assert.equal(atAgent, [{ type: 'ack', seq: 3 }, { type: 'cancel', id: 4 }]);
}));

test('data chunks of several streams arrive intact and in order, interleaved with messages', timed(10_000, async () => {
  const p = await pair();
  const m = managerPeer(p);
  const a = agentPeer(p);
  const streams = new Map<number, ReturnType<typeof createHash>>();
  const order: string[] = [];
  let received = 0;
  m.on('data', (id, parts, bytes) => {
    received += bytes;
    if (!streams.has(id)) streams.set(id, createHash('sha256'));
    for (const d of parts) streams.get(id)!.update(d);
    if (order.at(-1) !== `data ${id}`) order.push(`data ${id}`);
  });
  m.on('message', (msg) => order.push(msg.type));
  const done = new Promise<void>((r) => m.on('message', (msg) => { if (msg.type === 'bye') r(); }));

  // 4 MB on stream 1 (far more than a socket buffer, so writes must wait for drain), a little on 2.
  const sent1 = createHash('sha256');
  const sent2 = createHash('sha256');
  await a.send({ type: 'file', id: 1, size: 4 * 1024 * 1024, path: '/x' });
  for (let i = 0; i < 64; i++) {
    const chunk = randomBytes(64 * 1024);
    sent1.update(chunk);
    await a.sendData(1, chunk);
  }
  const small = Buffer.from('stream two');
  sent2.update(small);
  await a.sendData(2, small);
  await a.sendData(3, Buffer.alloc(0)); // empty chunk: legal, zero bytes
  await a.send({ type: 'bye', reason: 'done' });
  await done;
  assert.is(received, 4 * 1024 * 1024 + small.length);
  assert.is(streams.get(1)!.digest('hex'), sent1.digest('hex'));
  assert.is(streams.get(2)!.digest('hex'), sent2.digest('hex'));
  assert.ok(streams.has(3));
  assert.equal(order, ['file', 'data 1', 'data 2', 'data 3', 'bye']);
}));

test('a ping is answered with a pong carrying its `at`; neither reaches the owner', timed(5000, async () => {
  const p = await pair();
  const m = managerPeer(p);
  const seen: unknown[] = [];
  m.on('message', (msg) => seen.push(msg));
  const got = collectJson(p.client);
  p.client.write(encodeJson({ type: 'ping', at: 777 }));
  p.client.write(encodeJson({ type: 'pong', at: 1 }));
  p.client.write(encodeJson({ type: 'bye', reason: 'x' }));
  const t = Date.now();
  while (!got.length && Date.now() - t < 3000) await sleep(5);
  assert.equal(got, [{ type: 'pong', at: 777 }]);
  while (!seen.length && Date.now() - t < 3000) await sleep(5);
  assert.equal(seen, [{ type: 'bye', reason: 'x' }]);
}));

test('a burst of pings is answered ping for ping, in order, the pongs of one read leaving in one write', timed(5000, async () => {
  const p = await pair();
  const writes: number[] = [];
  const write = p.server.write.bind(p.server) as (...a: unknown[]) => boolean;
  p.server.write = ((...a: unknown[]) => {
    writes.push((a[0] as Buffer).length);
    return write(...a);
  }) as typeof p.server.write;
  managerPeer(p);
  const got = collectJson(p.client);
  const n = 500;
  p.client.write(Buffer.concat(Array.from({ length: n }, (_, i) => encodeJson({ type: 'ping', at: i }))));
  await waitFor(() => got.length >= n, 3000, 'every ping answered');
  assert.equal(got, Array.from({ length: n }, (_, i) => ({ type: 'pong', at: i })));
  // A queued write costs the heap far more than a pong's 30 bytes: one write per read, not per ping.
  assert.ok(writes.length < n / 10, `${writes.length} writes for ${n} pongs`);
}));

test('a ping in the same read as a message the owner ends the connection on: closed cleanly, nothing written after end', timed(5000, async () => {
  const p = await pair();
  const m = managerPeer(p);
  m.on('message', (msg) => { if (msg.type === 'bye') m.end(); });
  const closed = closeOf(m);
  p.client.on('end', () => p.client.end());
  p.client.write(Buffer.concat([encodeJson({ type: 'ping', at: 1 }), encodeJson({ type: 'bye', reason: 'done' })]));
  assert.is(await closed, undefined);
}));

test('pongs keep a fast-heartbeat peer alive when the other side never pings', timed(10_000, async () => {
  const p = await pair();
  // Its own clock, moved one heartbeat period a step once the previous ping was answered: 40 periods
  // pass whatever the machine's load (a stalled event loop is not what this tests). Ten misses of
  // 50 ms: without pongs it would close at the eleventh step.
  let now = 0;
  const pongs = collectJson(p.server);
  const m = managerPeer(p, { heartbeatMs: 50, heartbeatMisses: 10, now: () => now });
  agentPeer(p); // default heartbeat: it only answers
  let closed: unknown = 'open';
  m.on('close', (err) => { closed = err; });
  const answered = () => pongs.filter((x) => (x as { type: string }).type === 'pong').length;
  for (let i = 1; i <= 40; i++) {
    now += 50;
    await waitFor(() => answered() >= i || closed !== 'open', 5000, `pong ${i}`, 2);
    assert.is(closed, 'open', `closed at step ${i}`);
  }
  assert.not.ok(m.closed);
}));

test('a raw socket that never writes: HEARTBEAT_TIMEOUT after heartbeatMs * misses, pings sent meanwhile', timed(10_000, async () => {
  const p = await pair();
  const pings = collectJson(p.client);
  // Its own clock, moved by the test (a loaded machine's late timers cannot move it): open with
  // 150 ms of silence (a ping each 50 ms), HEARTBEAT_TIMEOUT at 151.
  let now = 0;
  const m = managerPeer(p, { heartbeatMs: 50, heartbeatMisses: 3, now: () => now });
  const closing = closeOf(m);
  for (const at of [50, 100, 150]) {
    now = at;
    await waitFor(() => pings.some((x) => (x as { at: number }).at === at) || m.closed, 5000, `the ping at ${at}`, 2);
    assert.not.ok(m.closed, `closed after ${at} ms of silence`);
  }
  now = 151;
  const err = await closing;
  assert.instance(err, HwError);
  assert.is((err as HwError).code, 'HEARTBEAT_TIMEOUT');
  assert.match((err as HwError).message, 'no data from peer for 151 ms');
  assert.ok(m.closed);
  assert.ok(pings.every((x) => (x as { type: string }).type === 'ping'));
  if (!p.client.destroyed) await once(p.client, 'close'); // the far end sees the connection go
}));

test('150 peers on one shared heartbeat timer (checked in slices): each is pinged and each silent one times out', timed(15_000, async () => {
  const n = 150; // past the size at which a heartbeat group is checked in slices
  const ps = await Promise.all(Array.from({ length: n }, () => pair()));
  const pings = ps.map((p) => collectJson(p.client));
  const start = Date.now();
  const peers = ps.map((p) => managerPeer(p, { heartbeatMs: 200, heartbeatMisses: 3 }));
  const errs = await Promise.all(peers.map((m) => closeOf(m)));
  const elapsed = Date.now() - start;
  assert.ok(errs.every((e) => (e as HwError).code === 'HEARTBEAT_TIMEOUT'), 'every silent peer times out');
  assert.ok(elapsed >= 550 && elapsed < 10_000, `closed after ${elapsed} ms`);
  assert.ok(pings.every((list) => list.length >= 1), 'every peer was pinged before giving up');
}));

test('a peer whose socket is paused (no pongs) is closed with HEARTBEAT_TIMEOUT', timed(5000, async () => {
  const p = await pair();
  agentPeer(p); // would answer pings, but its socket is paused so it never reads them
  p.client.pause();
  const m = managerPeer(p, { heartbeatMs: 50 });
  const err = await closeOf(m);
  assert.is((err as HwError).code, 'HEARTBEAT_TIMEOUT');
}));

test('setHeartbeat applies a new period to a running peer', timed(5000, async () => {
  const p = await pair();
  const m = managerPeer(p); // 10 s default: would not notice within this test
  m.setHeartbeat(30);
  const err = await closeOf(m);
  assert.is((err as HwError).code, 'HEARTBEAT_TIMEOUT');
}));

const frame = (len: number, kind: number, body = Buffer.alloc(0)) => {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(len >>> 0, 0);
  h[4] = kind;
  return Buffer.concat([h, body]);
};

const GARBAGE: [string, Buffer, string][] = [
  ['unknown kind', frame(1, 9, Buffer.from('x')), 'FRAME_KIND'],
  ['header over the limit', frame(MAX_FRAME_BYTES + 1, 1), 'FRAME_TOO_LARGE'],
  ['length 0xFFFFFFFF', frame(0xffffffff, 2), 'FRAME_TOO_LARGE'],
  ['length 0', frame(0, 1), 'FRAME_EMPTY'],
  ['body not JSON', frame(1, 1, Buffer.from('{')), 'BAD_JSON'],
  ['unknown type', encodeJson({ type: 'nope' }), 'UNKNOWN_TYPE'],
  ['hello missing fields', encodeJson({ type: 'hello' }), 'BAD_MESSAGE'],
];

for (const [name, bytes, code] of GARBAGE) {
  test(`garbage (${name}): the receiving peer closes with ${code}, after delivering what came before`, timed(5000, async () => {
    const p = await pair();
    const m = managerPeer(p);
    const seen: string[] = [];
    m.on('message', (msg) => seen.push(msg.type));
    const closed = closeOf(m);
    const farEnd = once(p.client, 'close');
    p.client.on('error', () => {}); // a reset is a fine way for the far end to learn
    p.client.write(encodeJson({ type: 'bye', reason: 'before' }));
    await waitFor(() => seen.length, 3000, 'the message before the garbage');
    p.client.write(Buffer.concat([bytes, encodeJson({ type: 'bye', reason: 'after' })]));
    const err = await closed;
    assert.instance(err, HwError);
    assert.is((err as HwError).code, code);
    assert.equal(seen, ['bye']);
    await farEnd;
  }));
}

test('maxFrameBytes option lowers the limit', timed(5000, async () => {
  const p = await pair();
  const m = managerPeer(p, { maxFrameBytes: 100 });
  const closed = closeOf(m);
  p.client.on('error', () => {});
  p.client.write(frame(101, 1));
  assert.is(((await closed) as HwError).code, 'FRAME_TOO_LARGE');
}));

test('end() closes both sides cleanly (no error); send afterwards is DISCONNECTED', timed(5000, async () => {
  const p = await pair();
  const m = managerPeer(p);
  const a = agentPeer(p);
  const closedA = closeOf(a);
  const closedM = closeOf(m);
  m.end();
  assert.is(await closedA, undefined);
  assert.is(await closedM, undefined);
  for (const fn of [() => a.send({ type: 'bye', reason: 'x' }), () => a.sendData(1, Buffer.from('x'))]) {
    try {
      await fn();
      assert.unreachable('send on a closed peer resolved');
    } catch (err) {
      assert.is((err as HwError).code, 'DISCONNECTED');
    }
  }
  a.post({ type: 'bye', reason: 'ignored' }); // post on a closed peer is a no-op, not a throw
}));

test('fail(err) closes with that error; the other side sees a plain close', timed(5000, async () => {
  const p = await pair();
  const m = managerPeer(p);
  const a = agentPeer(p);
  const closedA = closeOf(a);
  const closedM = closeOf(m);
  const mine = new HwError('NOT_ALLOWED', 'go away');
  m.fail(mine);
  assert.is(await closedM, mine);
  const errA = await closedA;
  // The agent side was not at fault: no error, or only the socket's own reset.
  assert.ok(errA === undefined || !(errA instanceof HwError), String(errA));
}));

// Regression test (a bug, now fixed, in the wait for drain, common/util/drain.ts): events.once()
// rejected when the stream emitted 'error', so a connection reset while a send waited for drain
// surfaced as the raw socket error (ECONNRESET, no .code HwError) instead of DISCONNECTED. drained()
// now treats an error like a close.
test('a send blocked on backpressure rejects with DISCONNECTED when the connection dies', timed(10_000, async () => {
  const p = await pair();
  const a = agentPeer(p);
  p.server.pause(); // the manager side reads nothing: the kernel buffers fill, then write() says wait
  p.server.on('error', () => {});
  const chunk = Buffer.alloc(256 * 1024, 7);
  let outcome: Promise<unknown> | undefined;
  for (let i = 0; i < 400 && !outcome; i++) {
    const settled = a.sendData(1, chunk).then(() => 'sent', (err: unknown) => err);
    if (await blocked(settled, p.client)) outcome = settled;
  }
  assert.ok(outcome, 'never blocked: 100 MB went into a paused socket');
  const closed = closeOf(a);
  p.server.destroy();
  const err = await outcome;
  assert.instance(err, HwError, String(err));
  assert.is((err as HwError).code, 'DISCONNECTED');
  await closed;
  assert.is(p.client.listenerCount('drain'), 0, 'drain listener left behind');
}));

test('many sends that each wait for drain leave no listeners behind', timed(10_000, async () => {
  const p = await pair();
  const a = agentPeer(p);
  const m = managerPeer(p);
  let got = 0;
  m.on('data', (_id, _parts, bytes) => { got += bytes; });
  const base = { drain: p.client.listenerCount('drain'), close: p.client.listenerCount('close') };
  const chunk = Buffer.alloc(512 * 1024, 1);
  for (let i = 0; i < 40; i++) await a.sendData(9, chunk);
  assert.is(p.client.listenerCount('drain'), base.drain);
  assert.is(p.client.listenerCount('close'), base.close);
  const t = Date.now();
  while (got < 40 * chunk.length && Date.now() - t < 5000) await sleep(10);
  assert.is(got, 40 * chunk.length);
}));

// The send queue is bounded: a peer that floods pings and never reads makes us pause reading
// once our pongs pass the pause mark, and is cut with SLOW_PEER if it stays that way.
test('a ping flood from a peer that never reads: reading pauses, unsent bytes stay bounded, then SLOW_PEER', timed(10_000, async () => {
  const p = await pair();
  // A fast tick for the slow-peer check, and no heartbeat verdict in the way on a loaded machine.
  const m = managerPeer(p, { pauseAboveBytes: 64 * 1024, maxUnsentBytes: 1024 * 1024, slowPeerMs: 300, heartbeatMs: 100, heartbeatMisses: 1000 });
  p.client.pause(); // never reads our pongs
  p.client.on('error', () => {});
  const ping = encodeJson({ type: 'ping', at: 1 });
  const burst = Buffer.concat(Array.from({ length: 2000 }, () => ping));
  let maxUnsent = 0;
  const watch = setInterval(() => { maxUnsent = Math.max(maxUnsent, m.unsentBytes); }, 2);
  const closed = closeOf(m);
  let written = 0;
  // Bounded loop: keeps writing while the kernel takes it, up to 64 MB, 8 s, or until we are cut.
  const until = Date.now() + 8000;
  while (!m.closed && written < 64 * 1024 * 1024 && Date.now() < until) {
    if (!p.client.write(burst)) await Promise.race([once(p.client, 'drain').catch(() => {}), sleep(50)]);
    written += burst.length;
  }
  const err = await closed;
  clearInterval(watch);
  assert.instance(err, HwError);
  assert.is((err as HwError).code, 'SLOW_PEER');
  assert.ok(maxUnsent <= 1024 * 1024, `unsent peaked at ${maxUnsent} bytes`);
}));

test('past the hard bound a peer is cut at once with SLOW_PEER', timed(5000, async () => {
  const p = await pair();
  const a = agentPeer(p, { maxUnsentBytes: 256 * 1024, pauseAboveBytes: 64 * 1024 });
  p.server.pause();
  p.server.on('error', () => {});
  const closed = closeOf(a);
  for (let i = 0; i < 200 && !a.closed; i++) a.post({ type: 'bye', reason: 'x'.repeat(500) + i });
  for (let i = 0; i < 200 && !a.closed; i++) await a.sendData(1, Buffer.alloc(64 * 1024)).catch(() => {});
  const err = await closed;
  assert.is((err as HwError).code, 'SLOW_PEER');
}));

test('pauseReads false: a backlogged side still reads what the other sends (a cancel gets through)', timed(5000, async () => {
  const p = await pair();
  const a = agentPeer(p, { pauseReads: false, maxUnsentBytes: 64 * 1024 * 1024 });
  const m = managerPeer(p);
  p.server.pause(); // the manager side reads nothing: the agent's sends pile up
  p.server.on('error', () => {});
  // Bounded: past what the kernel's socket buffers take, whatever their size (at most 32 MiB).
  p.client.setMaxListeners(0); // each pending send waits on drain: many at once here, on purpose
  for (let i = 0; i < 512 && a.unsentBytes <= 2 * 1024 * 1024; i++) a.sendData(1, Buffer.alloc(64 * 1024)).catch(() => {});
  assert.ok(a.unsentBytes > 2 * 1024 * 1024, `backlogged: ${a.unsentBytes} bytes unsent`);
  const got = new Promise((resolve) => a.once('message', resolve));
  m.post({ type: 'cancel', id: 1 });
  assert.equal(await got, { type: 'cancel', id: 1 });
}));

test('quiet until open(): a ping is handed to the owner unanswered; after open() it is answered', timed(5000, async () => {
  const p = await pair();
  const m = managerPeer(p, { quiet: true, heartbeatMs: 200, heartbeatMisses: 1000 });
  const seen: unknown[] = [];
  m.on('message', (msg) => seen.push(msg));
  const got = collectJson(p.client);
  p.client.write(encodeJson({ type: 'ping', at: 5 }));
  await waitFor(() => seen.length === 1, 3000, 'ping seen by the owner');
  await sleep(300); // past a heartbeat period: a quiet peer sends no ping of its own either
  assert.equal(got, [], 'nothing sent before open()');
  m.open();
  p.client.write(encodeJson({ type: 'ping', at: 6 }));
  await waitFor(() => got.some((x) => (x as { type: string; at: number }).type === 'pong'), 3000, 'pong after open');
  assert.equal(seen, [{ type: 'ping', at: 5 }]);
}));

test.run();

// The engine's event stream decides what the agent asks again, on a fake engine (a unix socket
// answering the Engine API as Docker does): with the stream open a container is inspected again
// only when an event names it, the live reports' list is reused while nothing happened, and with
// the stream gone every list inspects everything, as without it; a restart the agent asked for is
// not left to the events, which may come after the next list.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ContainerEngine } from '../../../common/collect/containers/engine.ts';
import { cleanTempDirs, tempDir, timed, waitFor } from '../../harness.helper.ts';

const test = suite('collect/containers/events');
const closers: (() => Promise<void>)[] = [];
test.after.each(async () => {
  for (const c of closers.splice(0)) await c();
});
test.after(() => cleanTempDirs());

const ID = (n: number) => String(n).repeat(64).slice(0, 64);

async function engine() {
  const socket = join(tempDir('hw-events-'), 'engine.sock');
  const asked: string[] = [];
  const streams: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!.replace(/^\/v[\d.]+/, '');
    asked.push(path);
    if (path === '/_ping') return res.end('OK');
    if (path.endsWith('/restart')) {
      res.statusCode = 204;
      return res.end();
    }
    if (path === '/containers/json') return res.end(JSON.stringify([1, 2].map((n) => ({ Id: ID(n), Names: [`/c${n}`], Image: 'img', State: 'running', Status: 'Up' }))));
    if (path.startsWith('/containers/')) return res.end(JSON.stringify({ State: { Pid: 0, StartedAt: '2026-01-01T00:00:00Z' }, RestartCount: 0, Config: {} }));
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      streams.push(res);
      return;
    }
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(socket, r));
  const e = new ContainerEngine({ env: { DOCKER_HOST: `unix://${socket}` }, timeoutMs: 2000 });
  closers.push(async () => {
    e.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const count = (p: string | RegExp) => asked.filter((a) => (typeof p === 'string' ? a === p : p.test(a))).length;
  return { e, asked, streams, count, send: (o: object) => streams.at(-1)!.write(`${JSON.stringify(o)}\n`) };
}

const INSPECT = /^\/containers\/[0-9a-f]{64}\/json$/;

test('with the stream open: inspected once, again only when an event names it; the live list reused until an event', timed(15_000, async () => {
  const f = await engine();
  // Until the stream is open every list inspects all; the first list after it opened too (what
  // happened before is not known); then a list inspects nothing.
  let rounds = 0;
  await waitFor(async () => {
    const k = f.count(INSPECT);
    await f.e.list();
    rounds++;
    return f.count(INSPECT) === k;
  }, 5000, 'a list that inspects nothing');
  assert.is(f.count(INSPECT), 2 * (rounds - 1), 'every list before inspected both');
  const afterOpen = f.count(INSPECT);
  const lists = f.count('/containers/json');
  await f.e.list({ forReport: true });
  assert.is(f.count('/containers/json'), lists, 'the live reports reuse the list while nothing happened');
  const two = () => f.asked.filter((a) => a === `/containers/${ID(2)}/json`).length;
  const twoBefore = two();
  f.send({ Type: 'container', Action: 'exec_start: sh -c healthcheck', Actor: { ID: ID(1) } });
  f.send({ Type: 'container', Action: 'restart', Actor: { ID: ID(2) } });
  await waitFor(async () => {
    const n = f.count('/containers/json');
    await f.e.list({ forReport: true });
    return f.count('/containers/json') > n;
  }, 5000, 'an event makes the live list ask again');
  assert.is(f.count(INSPECT), afterOpen + 1, 'only the container the restart named was inspected again (a healthcheck exec is not a change)');
  assert.is(two(), twoBefore + 1);
}));

test('after a restart it asked for, the next list inspects again without waiting for the engine\'s events', timed(15_000, async () => {
  const f = await engine();
  await waitFor(async () => {
    const k = f.count(INSPECT);
    await f.e.list();
    return f.count(INSPECT) === k;
  }, 5000, 'a list that inspects nothing');
  const lists = f.count('/containers/json');
  const n = f.count(INSPECT);
  assert.equal(await f.e.restart('c1'), { restarted: 'c1' });
  await f.e.list({ forReport: true });
  assert.is(f.count('/containers/json'), lists + 1, 'the list asked again');
  assert.is(f.count(INSPECT), n + 2, 'inspected again: its start time changed');
}));

test('the stream gone: every list inspects every container again', timed(15_000, async () => {
  const f = await engine();
  await waitFor(async () => (await f.e.list(), f.streams.length > 0), 5000, 'the event stream open');
  await f.e.list();
  f.streams.at(-1)!.end();
  const n = f.count(INSPECT);
  await waitFor(async () => {
    const k = f.count(INSPECT);
    await f.e.list({ forReport: true });
    return f.count(INSPECT) === k + 2;
  }, 5000, 'both inspected again once the stream is gone');
  assert.ok(f.count(INSPECT) >= n + 2);
}));

test.run();

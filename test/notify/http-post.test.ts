// postJson against a real receiver on loopback: the answer's body is read bounded (a 500 with
// 300 MiB, a 200 or a 500 whose body never ends cost a few KiB and end the connection), the
// outcome is a coded error, and the error message carries no credentials.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkUrl, postJson } from '../../common/notify/http-post.ts';
import { codeOf, codeOfAsync, timed, waitFor } from '../harness.helper.ts';
import { flood, startReceiver, type Receiver } from './receiver.helper.ts';

const test = suite('notify/http-post');
const open: Receiver[] = [];
test.after.each(async () => {
  for (const r of open.splice(0)) await r.close();
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  open.push(r);
  return r;
}

const MiB = 1024 * 1024;

test('a 500 with a 300 MiB body: UNAVAILABLE with a few KiB of it, the rest never read', timed(20_000, async () => {
  const r = await receiver();
  const f = flood(500, 300 * MiB);
  r.answer = f.answer;
  let err: any;
  try {
    await postJson(`${r.url}/hook`, '{}');
  } catch (e) {
    err = e;
  }
  assert.is(err?.code, 'UNAVAILABLE');
  assert.match(err.message, /^HTTP 500: x+$/);
  assert.ok(err.message.length <= 2048 + 20, `message ${err.message.length} chars`);
  await waitFor(() => f.cut === 1, 10_000, 'the receiver sees the connection closed');
  assert.is(f.finished, 0);
  // What sits in the two kernels' socket buffers at most, far from 300 MiB.
  assert.ok(f.written < 32 * MiB, `receiver wrote ${f.written} bytes before the cut`);
}));

test('a 200 whose body never ends is a success, and the connection is cut', timed(20_000, async () => {
  const r = await receiver();
  const f = flood(200, Infinity);
  r.answer = f.answer;
  assert.is(await postJson(`${r.url}/hook`, '{}', {}, { bodyWaitMs: 200 }), 200);
  await waitFor(() => f.cut === 1, 10_000, 'cut');
  assert.ok(f.written < 32 * MiB, `${f.written} bytes`);
}));

test('a 500 whose body trickles and never ends: UNAVAILABLE once the body wait is over', timed(20_000, async () => {
  const r = await receiver();
  let res: import('node:http').ServerResponse | undefined;
  r.answer = (_req, s) => {
    res = s;
    s.writeHead(503);
    s.write('busy, ');
    s.write('come back later');
    // and never s.end()
  };
  let err: any;
  try {
    await postJson(`${r.url}/`, '{}', {}, { bodyWaitMs: 300 });
  } catch (e) {
    err = e;
  }
  assert.is(err?.code, 'UNAVAILABLE');
  assert.is(err.message, 'HTTP 503: busy, come back later');
  await waitFor(() => res?.destroyed === true || res?.writableEnded === true || res?.socket === null, 10_000, 'cut');
}));

test('a 200 with a small body keeps the connection for the next POST', timed(10_000, async () => {
  const r = await receiver();
  const ports = new Set<number>();
  r.answer = (req, res) => {
    ports.add(req.socket.remotePort!);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success"}');
  };
  assert.is(await postJson(`${r.url}/`, '{}'), 200);
  assert.is(await postJson(`${r.url}/`, '{}'), 200);
  assert.is(ports.size, 1, 'one connection for both');
}));

test('no answer within the timeout: TIMEOUT; nothing listening: UNAVAILABLE', timed(10_000, async () => {
  const r = await receiver();
  r.failures.push('hang');
  assert.is(await codeOfAsync(postJson(`${r.url}/`, '{}', {}, { timeoutMs: 200 })), 'TIMEOUT');
  const port = r.port;
  await r.close();
  open.splice(0);
  let err: any;
  try {
    await postJson(`http://127.0.0.1:${port}/`, '{}');
  } catch (e) {
    err = e;
  }
  assert.is(err?.code, 'UNAVAILABLE');
  assert.match(err.message, /ECONNREFUSED/);
}));

test('4xx is REJECTED (not 408/425/429); a redirect is not followed', timed(10_000, async () => {
  const r = await receiver();
  r.failures.push(400, 429, 301);
  assert.is(await codeOfAsync(postJson(`${r.url}/`, '{}')), 'REJECTED');
  assert.is(await codeOfAsync(postJson(`${r.url}/`, '{}')), 'UNAVAILABLE');
  let err: any;
  try {
    await postJson(`${r.url}/`, '{}');
  } catch (e) {
    err = e;
  }
  assert.is(err?.code, 'UNAVAILABLE');
  assert.match(err.message, /HTTP 301 \(redirects are not followed\)/);
}));

test('user info is sent as Basic auth; an error echoing the request carries no credential, secret path or secret', timed(10_000, async () => {
  const r = await receiver();
  const secretPath = '/services/T0001/B0002/XyZsecretTokenPart123';
  const secret = 'the-hmac-secret-0123456789';
  let seen: { auth?: string; url?: string } = {};
  // A receiver that echoes what it got, as some 4xx pages do.
  r.answer = (req, res) => {
    seen = { auth: req.headers.authorization, url: req.url };
    res.writeHead(404).end(`no route ${req.url} on http://${req.headers.host}${req.url}; authorization: ${req.headers.authorization}; `
      + `"Authorization":"${req.headers.authorization}" x-token: ${req.headers['x-token']} key=${secret} ${decodeURIComponent(req.url ?? '')}`);
  };
  const url = `http://alice:p%40ss-w0rd@127.0.0.1:${r.port}${secretPath}?token=qwertyuiop`;
  let err: any;
  try {
    await postJson(url, '{}', { 'x-token': 'header-secret-value' }, { secrets: [secret] });
  } catch (e) {
    err = e;
  }
  assert.is(seen.auth, `Basic ${Buffer.from('alice:p@ss-w0rd').toString('base64')}`);
  assert.is(seen.url, `${secretPath}?token=qwertyuiop`);
  assert.is(err?.code, 'REJECTED');
  const m: string = err.message;
  for (const leak of ['p@ss-w0rd', 'p%40ss-w0rd', 'XyZsecretTokenPart123', 'qwertyuiop', secret, 'header-secret-value', Buffer.from('alice:p@ss-w0rd').toString('base64')]) {
    assert.not.ok(m.includes(leak), `"${leak}" in: ${m}`);
  }
  assert.match(m, /^HTTP 404: no route /);
  assert.match(m, `127.0.0.1:${r.port}`, 'still says where it went');
}));

test('checkUrl: a bad URL or scheme is BAD_FLAG and the message shows no password', () => {
  assert.is(codeOf(() => checkUrl('ftp://bob:hunter22@x/', '--webhook')), 'BAD_FLAG');
  for (const u of ['ftp://bob:hunter22@x/', 'http://bob:hunter22@ x']) {
    try {
      checkUrl(u, '--webhook');
    } catch (e) {
      assert.not.match((e as Error).message, 'hunter22');
    }
  }
});

test.run();

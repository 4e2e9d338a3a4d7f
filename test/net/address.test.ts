// "host", "host:port", "[v6]:port" and lists of them, with BAD_FLAG errors that name the flag.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HwError } from '../../common/errors.ts';
import { formatHostPort, isLoopback, parseHostList, parseHostPort, parsePort } from '../../common/net/address.ts';

const test = suite('net/address');

function errOf(fn: () => unknown): HwError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, HwError, `expected an HwError, got ${String(err)}`);
    return err as HwError;
  }
  assert.unreachable('expected a throw');
  throw new Error('unreachable');
}

test('parsePort: 0..65535 integers, strings or numbers', () => {
  assert.is(parsePort('5005', '--port'), 5005);
  assert.is(parsePort(5006, '--port'), 5006);
  assert.is(parsePort('0', '--port'), 0);
  assert.is(parsePort('65535', '--port'), 65535);
  assert.is(parsePort('1', '--port', false), 1);
  for (const v of ['65536', '-1', '1.5', 'abc', 'NaN', undefined, {}, 'Infinity']) {
    const e = errOf(() => parsePort(v, '--udp-port'));
    assert.is(e.code, 'BAD_FLAG', String(v));
    assert.match(e.message, '--udp-port');
  }
  assert.is(errOf(() => parsePort('0', '--udp-port', false)).code, 'BAD_FLAG');
});

test('host, host:port, IPv4, bracketed and bare IPv6', () => {
  assert.equal(parseHostPort('example.org', 5005, '--manager'), { host: 'example.org', port: 5005 });
  assert.equal(parseHostPort('example.org:6000', 5005, '--manager'), { host: 'example.org', port: 6000 });
  assert.equal(parseHostPort(' 10.0.0.1:7 ', 5005, '--manager'), { host: '10.0.0.1', port: 7 });
  assert.equal(parseHostPort('10.0.0.1', 5005, '--manager'), { host: '10.0.0.1', port: 5005 });
  assert.equal(parseHostPort('[::1]:5010', 5005, '--manager'), { host: '::1', port: 5010 });
  assert.equal(parseHostPort('[2001:db8::1]', 5005, '--manager'), { host: '2001:db8::1', port: 5005 });
  assert.equal(parseHostPort('::1', 5005, '--manager'), { host: '::1', port: 5005 });
  assert.equal(parseHostPort('2001:db8::5', 5005, '--manager'), { host: '2001:db8::5', port: 5005 });
});

test('bad addresses are BAD_FLAG naming the flag', () => {
  for (const spec of ['', '   ', ':5005', 'example.org:99999', 'example.org:http', '[::1]:x', 'my host:80', '[::1]x']) {
    const e = errOf(() => parseHostPort(spec, 5005, '--api'));
    assert.is(e.code, 'BAD_FLAG', JSON.stringify(spec));
    assert.match(e.message, '--api');
  }
});

// Regression test (a bug, now fixed, in common/net/address.ts parsePort): Number('') and Number(' ') and Number(null) are 0 and
// Number(true) is 1, so "host:" quietly means port 0 (a random port for a listener, a refused
// connection for a client) and a bare `--port` flag (cac passes `true`) means port 1. Only decimal
// digits should be a port; anything else BAD_FLAG.
test('an empty port after the colon is BAD_FLAG, not port 0', () => {
  assert.is(errOf(() => parseHostPort('example.org:', 5005, '--manager')).code, 'BAD_FLAG');
  assert.is(errOf(() => parseHostPort('[::1]:', 5005, '--manager')).code, 'BAD_FLAG');
  assert.is(errOf(() => parsePort('', '--port')).code, 'BAD_FLAG');
  assert.is(errOf(() => parsePort(' ', '--port')).code, 'BAD_FLAG');
  assert.is(errOf(() => parsePort(null, '--port')).code, 'BAD_FLAG');
  assert.is(errOf(() => parsePort(true, '--port')).code, 'BAD_FLAG');
});

test('lists: comma separated, default port each, empty list refused', () => {
  assert.equal(parseHostList('a, b:6000 ,[::1]:7000,', 5005, '--manager'), [
    { host: 'a', port: 5005 }, { host: 'b', port: 6000 }, { host: '::1', port: 7000 },
  ]);
  for (const spec of ['', ',', ' , , ']) {
    const e = errOf(() => parseHostList(spec, 5005, '--manager'));
    assert.is(e.code, 'BAD_FLAG');
    assert.match(e.message, '--manager');
  }
  assert.is(errOf(() => parseHostList('a,b:bad', 5005, '--manager')).code, 'BAD_FLAG');
});

test('formatHostPort brackets IPv6 only, and round-trips through parseHostPort', () => {
  assert.is(formatHostPort({ host: '::1', port: 5005 }), '[::1]:5005');
  assert.is(formatHostPort({ host: '10.0.0.1', port: 80 }), '10.0.0.1:80');
  assert.is(formatHostPort({ host: 'example.org', port: 1 }), 'example.org:1');
  for (const h of [{ host: '::1', port: 5005 }, { host: '2001:db8::7', port: 0 }, { host: 'x.y', port: 65535 }, { host: '1.2.3.4', port: 9 }]) {
    assert.equal(parseHostPort(formatHostPort(h), 1, '--x'), h);
  }
});

test('isLoopback', () => {
  for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1']) assert.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.org', '1127.0.0.1']) assert.not.ok(isLoopback(h), h);
});

test.run();

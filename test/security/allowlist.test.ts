// Who may talk to the manager: single addresses and CIDR ranges of both families, IPv4-mapped IPv6
// treated as IPv4, loopback only by default, and a coded error for anything that is not an address.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Allowlist, LOOPBACK_ALLOW } from '../../common/security/allowlist.ts';
import { addressGroup, normalizeAddress } from '../../common/net/address.ts';
import { codeOf } from '../harness.helper.ts';

const test = suite('security/allowlist');


function check(list: Allowlist, yes: string[], no: string[]): void {
  for (const a of yes) assert.ok(list.allows(a), `${a} should be allowed by ${list.entries.join(',')}`);
  for (const a of no) assert.not.ok(list.allows(a), `${a} should be refused by ${list.entries.join(',')}`);
}

test('default is loopback only, for undefined, empty string and empty list', () => {
  for (const spec of [undefined, '', [] as string[]]) {
    const list = Allowlist.parse(spec);
    assert.equal(list.entries, LOOPBACK_ALLOW);
    check(list, ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1'], ['10.0.0.1', '192.168.1.1', '::2', '0.0.0.0', '::', '128.0.0.1']);
  }
});

test('a single IPv4 address allows only itself', () => {
  const list = Allowlist.parse('10.0.0.5');
  check(list, ['10.0.0.5'], ['10.0.0.4', '10.0.0.6', '127.0.0.1', '::1', '10.0.0.50']);
});

test('a single IPv6 address matches whatever way it is written', () => {
  const list = Allowlist.parse('2001:db8::1');
  check(list, ['2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:DB8::1'], ['2001:db8::2', '2001:db8::', '::1', '127.0.0.1']);
});

test('IPv4 CIDR: the whole range and nothing outside', () => {
  check(Allowlist.parse('192.168.1.0/24'), ['192.168.1.0', '192.168.1.77', '192.168.1.255'], ['192.168.0.255', '192.168.2.0', '10.0.0.1']);
  check(Allowlist.parse('10.0.0.0/8'), ['10.0.0.1', '10.255.255.255'], ['11.0.0.0', '9.255.255.255']);
  // Host bits in the network address are ignored, as `ip route` would.
  check(Allowlist.parse('172.16.5.9/16'), ['172.16.0.1', '172.16.255.1'], ['172.17.0.1']);
  check(Allowlist.parse('10.1.2.3/32'), ['10.1.2.3'], ['10.1.2.4']);
  check(Allowlist.parse('0.0.0.0/0'), ['1.2.3.4', '255.255.255.255', '::ffff:8.8.8.8'], ['2001:db8::1']);
});

test('IPv6 CIDR: the whole range and nothing outside', () => {
  check(Allowlist.parse('2001:db8::/32'), ['2001:db8::1', '2001:db8:ffff:ffff::1'], ['2001:db9::1', '2001:db7:ffff::1', '10.0.0.1']);
  check(Allowlist.parse('fd00::/8'), ['fd12:3456::1'], ['fe80::1', 'fc00::1']);
  check(Allowlist.parse('fe80::/64'), ['fe80::1', 'fe80::abcd:1'], ['fe80:0:0:1::1']);
});

test('IPv4-mapped IPv6 peers count as their IPv4 address', () => {
  check(Allowlist.parse('10.0.0.5'), ['::ffff:10.0.0.5', '::FFFF:10.0.0.5'], ['::ffff:10.0.0.6']);
  check(Allowlist.parse('192.168.0.0/16'), ['::ffff:192.168.3.4'], ['::ffff:192.169.0.1']);
  // And a mapped address in the list means its IPv4.
  check(Allowlist.parse('::ffff:10.0.0.5'), ['10.0.0.5', '::ffff:10.0.0.5'], ['10.0.0.6']);
  check(Allowlist.parse('::ffff:10.0.0.0/8'), ['10.9.9.9'], ['11.0.0.0']);
  assert.is(normalizeAddress('::ffff:1.2.3.4'), '1.2.3.4');
  assert.is(normalizeAddress('::1'), '::1');
  assert.is(normalizeAddress('1.2.3.4'), '1.2.3.4');
  assert.is(normalizeAddress('::ffff:1.2.3'), '::ffff:1.2.3');
});

test('addressGroup: an IPv4 address is its own; an IPv6 one counts by its /64, however it is spelled', () => {
  assert.is(addressGroup('10.0.0.5'), '10.0.0.5');
  assert.is(addressGroup('::ffff:10.0.0.5'), '10.0.0.5');
  for (const a of ['2001:db8:1:2::1', '2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:DB8:1:2:0:0:0:7', '2001:db8:1:2::1%eth0']) {
    assert.is(addressGroup(a), '2001:db8:1:2::/64', a);
  }
  assert.is(addressGroup('2001:db8:1:3::1'), '2001:db8:1:3::/64');
  assert.is(addressGroup('::1'), '0:0:0:0::/64');
  assert.is(addressGroup('2001:db8::'), '2001:db8:0:0::/64');
  assert.is(addressGroup('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64', 'an embedded IPv4 counts as two groups');
});

test('lists: comma separated, array of specs, spaces and empty items ignored, both families at once', () => {
  const list = Allowlist.parse(' 10.0.0.1 ,, 192.168.0.0/24,2001:db8::/48 ,');
  assert.equal(list.entries, ['10.0.0.1', '192.168.0.0/24', '2001:db8::/48']);
  check(list, ['10.0.0.1', '192.168.0.9', '2001:db8:0:1::1', '::ffff:10.0.0.1'], ['10.0.0.2', '127.0.0.1', '::1', '2001:db8:1::1']);
  const arr = Allowlist.parse(['10.0.0.1,10.0.0.2', '::1']);
  assert.equal(arr.entries, ['10.0.0.1', '10.0.0.2', '::1']);
  check(arr, ['10.0.0.1', '10.0.0.2', '::1'], ['127.0.0.1']);
  // An explicit list replaces the loopback default instead of adding to it.
  assert.not.ok(Allowlist.parse('10.0.0.1').allows('127.0.0.1'));
});

test('junk and bad prefixes are BAD_ALLOW, naming the entry', () => {
  for (const junk of ['junk', 'localhost', '*', '10.0.0', '10.0.0.256', '1.2.3.4.5', '10.0.0.1:5005', '::g', '/24', 'example.com/24']) {
    assert.is(codeOf(() => Allowlist.parse(junk)), 'BAD_ALLOW', junk);
  }
  for (const bad of ['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/1e1', '10.0.0.0/ 8', '10.0.0.0/x', '::1/129', '2001:db8::/']) {
    assert.is(codeOf(() => Allowlist.parse(bad)), 'BAD_ALLOW', bad);
  }
  // One bad entry spoils the whole list: no half-applied allowlist.
  assert.is(codeOf(() => Allowlist.parse('10.0.0.1,oops')), 'BAD_ALLOW');
  try {
    Allowlist.parse('10.0.0.1, nope.example ');
  } catch (err) {
    assert.match((err as Error).message, 'nope.example');
  }
  // The extremes are fine.
  assert.ok(Allowlist.parse('10.0.0.0/0').allows('8.8.8.8'));
  assert.ok(Allowlist.parse('::1/128').allows('::1'));
});

test('allows() refuses what is not an address rather than throwing', () => {
  const list = Allowlist.parse('0.0.0.0/0,::/0');
  for (const a of [undefined, '', 'localhost', 'garbage', '10.0.0.1/8', ' 10.0.0.1']) {
    assert.is(list.allows(a), false, String(a));
  }
});

test.run();

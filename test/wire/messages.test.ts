// Validation at the boundary: every message type accepted when well formed, refused with a code
// (BAD_JSON, BAD_MESSAGE, UNKNOWN_TYPE) when not.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  isAgentUuid, parseAckDatagram, parseAgentMessage, parseAlertDatagram, parseManagerMessage,
} from '../../common/wire/messages.ts';
import { randomUUID } from 'node:crypto';
import { codeOf } from '../harness.helper.ts';

const test = suite('wire/messages');

const j = (v: unknown) => Buffer.from(JSON.stringify(v));
const agentCode = (v: unknown) => codeOf(() => parseAgentMessage(j(v)));
const managerCode = (v: unknown) => codeOf(() => parseManagerMessage(j(v)));

const HELLO = {
  type: 'hello', v: 1, id: 'a1b2c3d4-0000-4000-8000-000000000000', name: 'web1', hostname: 'web1.lan',
  platform: 'linux', arch: 'x64', version: '0.1.0', interval: 5, restartAllowed: false, filesEnabled: true,
};
const METRICS = {
  cpuPercent: 12.5, memPercent: 40, diskPercent: 71, netRxBytes: 1000, netTxBytes: 2000, uptimeSeconds: 3600,
  processCount: 123, memTotalBytes: 8e9, memAvailableBytes: 4e9, netRxRate: 10, netTxRate: 20, load1: 0.5, diskSizeBytes: 1e11, diskAvailBytes: 3e10,
};
const SHA = 'a'.repeat(64);

test('not JSON is BAD_JSON; JSON that is not an object with a type is BAD_MESSAGE', () => {
  for (const parse of [parseAgentMessage, parseManagerMessage]) {
    assert.is(codeOf(() => parse(Buffer.from('{"type":'))), 'BAD_JSON');
    assert.is(codeOf(() => parse('')), 'BAD_JSON');
    assert.is(codeOf(() => parse(Buffer.from([0xff, 0xfe, 0x00]))), 'BAD_JSON');
    for (const v of [null, 1, 'hello', [], [{ type: 'hello' }], {}, { type: 7 }, { type: null }]) {
      assert.is(codeOf(() => parse(j(v))), 'BAD_MESSAGE', JSON.stringify(v));
    }
  }
});

test('unknown type is UNKNOWN_TYPE, on both sides, including the other side\'s types', () => {
  assert.is(agentCode({ type: 'nope' }), 'UNKNOWN_TYPE');
  assert.is(managerCode({ type: 'nope' }), 'UNKNOWN_TYPE');
  assert.is(agentCode({ type: 'welcome', v: 1, agentId: 'x', heartbeatMs: 1000 }), 'UNKNOWN_TYPE');
  assert.is(agentCode({ type: 'accepted' }), 'UNKNOWN_TYPE');
  assert.is(managerCode(HELLO), 'UNKNOWN_TYPE');
  assert.is(agentCode({ type: '__proto__' }), 'UNKNOWN_TYPE');
  assert.is(agentCode({ type: 'toString' }), 'UNKNOWN_TYPE');
  // The message names the type but does not echo a huge one back.
  let message = '';
  try {
    parseAgentMessage(j({ type: 'x'.repeat(10_000) }));
  } catch (err) {
    message = (err as Error).message;
  }
  assert.ok(message.length > 0 && message.length < 200, message.slice(0, 300));
});

test('hello: valid, and each field checked', () => {
  assert.equal(parseAgentMessage(j(HELLO)), HELLO);
  assert.equal(parseAgentMessage(JSON.stringify(HELLO)), HELLO); // a string body too
  // Extra fields are dropped, not passed through.
  assert.equal(parseAgentMessage(j({ ...HELLO, evil: 1 })), HELLO);
  const bad: Record<string, unknown>[] = [
    { v: -1 }, { v: 1.5 }, { v: 1001 }, { v: '1' }, { id: 5 }, { id: 'x'.repeat(65) }, { name: undefined },
    { name: 'n'.repeat(129) }, { hostname: 'h'.repeat(257) }, { platform: 'p'.repeat(33) }, { arch: 'a'.repeat(33) },
    { version: 'v'.repeat(65) }, { interval: 'five' }, { restartAllowed: 'yes' }, { filesEnabled: 1 },
    { id: '' }, { id: 'has space' }, { id: '../x' }, { id: 'é-1234567' }, { id: '-leading-dash' },
  ];
  for (const patch of bad) assert.is(agentCode({ ...HELLO, ...patch }), 'BAD_MESSAGE', JSON.stringify(patch));
  // The optional enroll token is passed through when present and checked.
  assert.equal(parseAgentMessage(j({ ...HELLO, enrollToken: 't0k' })), { ...HELLO, enrollToken: 't0k' });
  assert.is(agentCode({ ...HELLO, enrollToken: 5 }), 'BAD_MESSAGE');
  assert.is(agentCode({ ...HELLO, enrollToken: 't'.repeat(257) }), 'BAD_MESSAGE');
  // At the limits, accepted.
  assert.is((parseAgentMessage(j({ ...HELLO, id: 'x'.repeat(64), name: 'n'.repeat(128) })) as { id: string }).id.length, 64);
});

test('hello id: a UUID in lower case is an agent UUID; an older free-form id passes the wire check only', () => {
  const uuid = randomUUID();
  assert.ok(isAgentUuid(uuid));
  for (const id of ['test-abc123', 'the-real-one', 'x', uuid.toUpperCase(), uuid.replace(/-/g, ''), ` ${uuid}`, `${uuid}0`]) {
    assert.not.ok(isAgentUuid(id), `${id}: one spelling per id`);
  }
  // Older ids still parse: whether they get in is the manager's registry's call (admission.ts).
  assert.is((parseAgentMessage(j({ ...HELLO, id: 'legacy-agent_1.2' })) as { id: string }).id, 'legacy-agent_1.2');
  assert.is((parseAgentMessage(j({ ...HELLO, id: uuid })) as { id: string }).id, uuid);
});

test('report: metrics with numbers, null and unavailable reasons', () => {
  const r = parseAgentMessage(j({ type: 'report', at: 1000, metrics: METRICS }));
  assert.equal(r, { type: 'report', at: 1000, metrics: METRICS });

  const withNull = {
    ...METRICS, cpuPercent: null, diskPercent: null,
    unavailable: { cpuPercent: 'first sample', diskPercent: 'statfs /: EACCES' },
  };
  const r2 = parseAgentMessage(j({ type: 'report', at: 1, metrics: withNull, backfill: true }));
  assert.ok(r2.type === 'report');
  if (r2.type !== 'report') return;
  assert.is(r2.metrics.cpuPercent, null);
  assert.is(r2.metrics.diskPercent, null);
  assert.is(r2.metrics.memPercent, 40);
  assert.equal(r2.metrics.unavailable, { cpuPercent: 'first sample', diskPercent: 'statfs /: EACCES' });
  assert.is(r2.backfill, true);

  // A missing metric is null (never a made-up 0); unknown metric keys are dropped.
  const r3 = parseAgentMessage(j({ type: 'report', at: 1, metrics: { cpuPercent: 5, bogus: 9 } }));
  assert.ok(r3.type === 'report');
  if (r3.type !== 'report') return;
  assert.is(r3.metrics.memPercent, null);
  assert.is((r3.metrics as unknown as Record<string, unknown>).bogus, undefined);
  assert.not.ok('backfill' in r3);
});

test('report: bad metrics, interfaces and unavailable are BAD_MESSAGE', () => {
  const rep = (patch: Record<string, unknown>) => ({ type: 'report', at: 1, metrics: METRICS, ...patch });
  assert.is(agentCode(rep({ at: 'now' })), 'BAD_MESSAGE');
  assert.is(agentCode(rep({ metrics: null })), 'BAD_MESSAGE');
  assert.is(agentCode(rep({ metrics: [1, 2] })), 'BAD_MESSAGE');
  assert.is(agentCode(rep({ metrics: { ...METRICS, cpuPercent: '12' } })), 'BAD_MESSAGE');
  assert.is(codeOf(() => parseAgentMessage('{"type":"report","at":1,"metrics":{"cpuPercent":1e999}}')), 'BAD_MESSAGE'); // Infinity
  assert.is(agentCode(rep({ metrics: { ...METRICS, unavailable: 'cpu' } })), 'BAD_MESSAGE');
  assert.is(agentCode(rep({ metrics: { ...METRICS, unavailable: { cpuPercent: 5 } } })), 'BAD_MESSAGE');
  assert.is(agentCode(rep({ metrics: { ...METRICS, unavailable: { cpuPercent: 'r'.repeat(513) } } })), 'BAD_MESSAGE');
  const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'why']));
  assert.is(agentCode(rep({ metrics: { ...METRICS, unavailable: tooMany } })), 'BAD_MESSAGE');
  assert.is(agentCode(rep({ backfill: 'yes' })), 'BAD_MESSAGE');

  const iface = { name: 'eth0', rxBytes: 1, txBytes: 2, rxRate: null, txRate: 3 };
  const ok = parseAgentMessage(j(rep({ interfaces: [iface] })));
  assert.equal(ok.type === 'report' && ok.interfaces, [iface]);
  assert.is(agentCode(rep({ interfaces: 'eth0' })), 'BAD_MESSAGE');
  assert.is(agentCode(rep({ interfaces: [5] })), 'BAD_MESSAGE');
  assert.is(agentCode(rep({ interfaces: [{ ...iface, name: 'n'.repeat(65) }] })), 'BAD_MESSAGE');
  assert.is(agentCode(rep({ interfaces: [{ ...iface, rxBytes: null }] })), 'BAD_MESSAGE');
  assert.is(agentCode(rep({ interfaces: Array.from({ length: 1025 }, () => iface) })), 'BAD_MESSAGE');
});

test('alert: valid; seq from 1; alert a type in capitals; the rule fields optional and checked', () => {
  const a = { type: 'alert', seq: 1, alert: 'CPU_HIGH', value: 93.3, threshold: 80, at: 1700000000000 };
  assert.equal(parseAgentMessage(j(a)), a);
  assert.equal(parseAgentMessage(j({ ...a, alert: 'CPU_NORMAL' })), { ...a, alert: 'CPU_NORMAL' });
  const r = { ...a, alert: 'DISK_FULL', rule: 'disk_full', state: 'firing', severity: 'critical', labels: { mount: '/data' } };
  assert.equal(parseAgentMessage(j(r)), r);
  for (const patch of [{ seq: 0 }, { seq: -1 }, { seq: 1.5 }, { seq: '1' }, { alert: 'cpu_high' }, { alert: 'CPU HIGH' }, { alert: 'A'.repeat(81) },
    { value: null }, { threshold: 'x' }, { at: undefined }, { rule: 'Disk' }, { state: 'on' }, { severity: 'high' }, { labels: { mount: 1 } },
    { labels: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }]) {
    assert.is(agentCode({ ...a, ...patch }), 'BAD_MESSAGE', JSON.stringify(patch));
  }
});

test('res: ok with any result, error with code and message', () => {
  assert.equal(parseAgentMessage(j({ type: 'res', id: 1, ok: true, result: { x: [1] } })), { type: 'res', id: 1, ok: true, result: { x: [1] } });
  assert.equal(
    parseAgentMessage(j({ type: 'res', id: 0xffffffff, ok: false, error: { code: 'FILE_NOT_FOUND', message: 'no' }, junk: 1 })),
    { type: 'res', id: 0xffffffff, ok: false, error: { code: 'FILE_NOT_FOUND', message: 'no' } },
  );
  for (const m of [
    { type: 'res', id: 0, ok: true }, { type: 'res', id: 0x100000000, ok: true }, { type: 'res', id: 1, ok: 'true' },
    { type: 'res', id: 1, ok: false }, { type: 'res', id: 1, ok: false, error: 'boom' },
    { type: 'res', id: 1, ok: false, error: { code: 'C'.repeat(65), message: 'm' } },
    { type: 'res', id: 1, ok: false, error: { code: 'C', message: 'm'.repeat(4097) } },
  ]) assert.is(agentCode(m), 'BAD_MESSAGE', JSON.stringify(m).slice(0, 80));
});

test('file and file-end', () => {
  assert.equal(parseAgentMessage(j({ type: 'file', id: 3, size: 0, path: '/etc/hosts' })), { type: 'file', id: 3, size: 0, path: '/etc/hosts' });
  assert.is(agentCode({ type: 'file', id: 3, size: -1, path: '/x' }), 'BAD_MESSAGE');
  assert.is(agentCode({ type: 'file', id: 3, size: 1, path: '/'.repeat(4097) }), 'BAD_MESSAGE');
  assert.equal(parseAgentMessage(j({ type: 'file-end', id: 3, bytes: 10, sha256: SHA })), { type: 'file-end', id: 3, bytes: 10, sha256: SHA });
  for (const sha of ['A'.repeat(64), 'a'.repeat(63), 'g'.repeat(64), 'a'.repeat(65), '']) {
    assert.is(agentCode({ type: 'file-end', id: 3, bytes: 10, sha256: sha }), 'BAD_MESSAGE', sha);
  }
  assert.is(agentCode({ type: 'file-end', id: 3, bytes: 1.5, sha256: SHA }), 'BAD_MESSAGE');
});

test('ping, pong and bye on both sides', () => {
  for (const parse of [parseAgentMessage, parseManagerMessage]) {
    assert.equal(parse(j({ type: 'ping', at: 5 })), { type: 'ping', at: 5 });
    assert.equal(parse(j({ type: 'pong', at: 0 })), { type: 'pong', at: 0 });
    assert.equal(parse(j({ type: 'bye', reason: 'shutdown' })), { type: 'bye', reason: 'shutdown' });
    assert.is(codeOf(() => parse(j({ type: 'ping' }))), 'BAD_MESSAGE');
    assert.is(codeOf(() => parse(j({ type: 'bye', reason: 'r'.repeat(513) }))), 'BAD_MESSAGE');
  }
});

test('manager messages: welcome, req, credit, cancel, ack', () => {
  const W = { type: 'welcome', v: 1, agentId: 'abc', heartbeatMs: 10_000, status: 'accepted', udpKey: Buffer.alloc(32, 1).toString('base64') };
  assert.equal(parseManagerMessage(j(W)), W);
  assert.equal(parseManagerMessage(j({ ...W, status: 'pending' })), { ...W, status: 'pending' });
  for (const patch of [{ heartbeatMs: 9 }, { heartbeatMs: 3_600_001 }, { agentId: 'x'.repeat(65) }, { status: 'maybe' },
    { status: undefined }, { udpKey: 5 }, { udpKey: 'k'.repeat(65) }]) {
    assert.is(managerCode({ ...W, ...patch }), 'BAD_MESSAGE', JSON.stringify(patch));
  }
  assert.equal(parseManagerMessage(j({ type: 'accepted', junk: 1 })), { type: 'accepted' });

  assert.equal(parseManagerMessage(j({ type: 'req', id: 9, cmd: 'status' })), { type: 'req', id: 9, cmd: 'status', args: {} });
  assert.equal(parseManagerMessage(j({ type: 'req', id: 9, cmd: 'logs', args: { lines: 5 } })), { type: 'req', id: 9, cmd: 'logs', args: { lines: 5 } });
  for (const cmd of ['status', 'procs', 'logs', 'fetch', 'restart']) {
    assert.is((parseManagerMessage(j({ type: 'req', id: 1, cmd })) as { cmd: string }).cmd, cmd);
  }
  assert.is(managerCode({ type: 'req', id: 9, cmd: 'rm -rf' }), 'BAD_MESSAGE');
  assert.is(managerCode({ type: 'req', id: 9, cmd: 'status', args: [1] }), 'BAD_MESSAGE');
  assert.is(managerCode({ type: 'req', id: 9, cmd: 'status', args: null }), 'BAD_MESSAGE');
  assert.is(managerCode({ type: 'req', id: 0, cmd: 'status' }), 'BAD_MESSAGE');

  assert.equal(parseManagerMessage(j({ type: 'credit', id: 2, bytes: 65536 })), { type: 'credit', id: 2, bytes: 65536 });
  assert.is(managerCode({ type: 'credit', id: 2, bytes: 0 }), 'BAD_MESSAGE');
  assert.is(managerCode({ type: 'credit', id: 2, bytes: -5 }), 'BAD_MESSAGE');
  assert.equal(parseManagerMessage(j({ type: 'cancel', id: 2 })), { type: 'cancel', id: 2 });
  assert.is(managerCode({ type: 'cancel' }), 'BAD_MESSAGE');
  assert.equal(parseManagerMessage(j({ type: 'ack', seq: 7 })), { type: 'ack', seq: 7 });
  assert.is(managerCode({ type: 'ack', seq: 0 }), 'BAD_MESSAGE');
});

test('alert datagram: valid, wrong type, bad fields', () => {
  const d = { type: 'alert', agentId: 'agent-1', seq: 4, alert: 'CPU_NORMAL', value: 40, threshold: 80, at: 5 };
  assert.equal(parseAlertDatagram(j(d)), d);
  assert.equal(parseAlertDatagram(j({ ...d, extra: 'x' })), d);
  assert.is(codeOf(() => parseAlertDatagram(j({ ...d, type: 'ack' }))), 'UNKNOWN_TYPE');
  assert.is(codeOf(() => parseAlertDatagram(Buffer.from('not json'))), 'BAD_JSON');
  assert.is(codeOf(() => parseAlertDatagram(j([d]))), 'BAD_MESSAGE');
  for (const patch of [{ agentId: 1 }, { agentId: 'x'.repeat(65) }, { seq: 0 }, { alert: 'x' }, { value: '1' }, { state: 'x' }]) {
    assert.is(codeOf(() => parseAlertDatagram(j({ ...d, ...patch }))), 'BAD_MESSAGE', JSON.stringify(patch));
  }
});

test('alerts and acks carry an optional epoch, checked on TCP and UDP alike', () => {
  const d = { type: 'alert', agentId: 'agent-1', epoch: 'e-1', seq: 1, alert: 'CPU_HIGH', value: 90, threshold: 80, at: 5 };
  assert.equal(parseAlertDatagram(j(d)), d);
  assert.equal(parseAckDatagram(j({ type: 'ack', agentId: 'agent-1', epoch: 'e-1', seq: 1 })), { type: 'ack', agentId: 'agent-1', epoch: 'e-1', seq: 1 });
  const { agentId: _, ...tcp } = d;
  assert.equal(parseAgentMessage(j(tcp)), tcp);
  assert.equal(parseManagerMessage(j({ type: 'ack', epoch: 'e-1', seq: 3 })), { type: 'ack', epoch: 'e-1', seq: 3 });
  for (const epoch of ['', 'a b', 'x'.repeat(65), 7]) {
    assert.is(codeOf(() => parseAlertDatagram(j({ ...d, epoch }))), 'BAD_MESSAGE', JSON.stringify(epoch));
    assert.is(codeOf(() => parseAgentMessage(j({ ...tcp, epoch }))), 'BAD_MESSAGE', JSON.stringify(epoch));
  }
});

test('features in hello and welcome: a list of names, unknown ones kept, absent from older peers, bad shapes refused', () => {
  const W = { type: 'welcome', v: 1, agentId: 'abc', heartbeatMs: 10_000, status: 'accepted', udpKey: Buffer.alloc(32, 1).toString('base64') };
  assert.equal(parseManagerMessage(j(W)), W, 'an older manager: no features');
  assert.equal(parseManagerMessage(j({ ...W, features: ['signed-acks', 'acked-samples'] })), { ...W, features: ['signed-acks', 'acked-samples'] });
  const H = { type: 'hello', v: 1, id: 'a', name: 'n', hostname: 'h', platform: 'linux', arch: 'x64', version: '1', interval: 5, restartAllowed: false, filesEnabled: false };
  assert.equal(parseAgentMessage(j({ ...H, features: ['signed-acks'] })), { ...H, features: ['signed-acks'] });
  for (const features of ['signed-acks', [1], ['Bad Name'], ['x'.repeat(65)], Array(33).fill('a'), { 'signed-acks': true }]) {
    assert.is(codeOf(() => parseManagerMessage(j({ ...W, features }))), 'BAD_MESSAGE', JSON.stringify(features).slice(0, 40));
    assert.is(codeOf(() => parseAgentMessage(j({ ...H, features }))), 'BAD_MESSAGE', JSON.stringify(features).slice(0, 40));
  }
});

test('ack datagram: valid, wrong type, bad fields', () => {
  const a = { type: 'ack', agentId: 'agent-1', seq: 4 };
  assert.equal(parseAckDatagram(j(a)), a);
  assert.is(codeOf(() => parseAckDatagram(j({ ...a, type: 'alert' }))), 'UNKNOWN_TYPE');
  assert.is(codeOf(() => parseAckDatagram(Buffer.from('{'))), 'BAD_JSON');
  assert.is(codeOf(() => parseAckDatagram(j({ ...a, seq: 'x' }))), 'BAD_MESSAGE');
  assert.is(codeOf(() => parseAckDatagram(j({ ...a, agentId: undefined }))), 'BAD_MESSAGE');
});

test('rules: the manager\'s rules checked field by field; null means the agent\'s own flags; rules-applied and hello\'s rulesVersion', () => {
  const rule = { name: 'disk_full', metric: 'disk', op: 'above', threshold: 90, critical: 95, clear: 85, for: 300, clearFor: 300, repeat: 3600, per: 'mount', excludeFstypes: ['tmpfs'], only: ['/'] };
  const m = { type: 'rules', version: 'abc123', rules: [rule] };
  assert.equal(parseManagerMessage(j(m)), m);
  assert.equal(parseManagerMessage(j({ type: 'rules', version: '', rules: null })), { type: 'rules', version: '', rules: null });
  for (const patch of [{ name: 'Disk' }, { metric: 'load' }, { op: 'over' }, { threshold: '90' }, { for: -1 }, { per: 'disk' }, { excludeFstypes: [1] }, { repeat: 0 }]) {
    assert.is(managerCode({ ...m, rules: [{ ...rule, ...patch }] }), 'BAD_MESSAGE', JSON.stringify(patch));
  }
  assert.is(managerCode({ ...m, version: 'a b' }), 'BAD_MESSAGE');
  assert.is(managerCode({ ...m, rules: Array.from({ length: 65 }, () => rule) }), 'BAD_MESSAGE');
  assert.equal(parseAgentMessage(j({ type: 'rules-applied', version: 'abc123' })), { type: 'rules-applied', version: 'abc123' });
  assert.is(agentCode({ type: 'rules-applied' }), 'BAD_MESSAGE');
});

test('report: per-mount usage and swap are carried; a bad mount entry is BAD_MESSAGE', () => {
  const r = parseAgentMessage(JSON.stringify({
    type: 'report', at: 1, metrics: { ...METRICS, swapTotalBytes: 100, swapUsedBytes: 5 },
    mounts: [{ mount: '/var', size: 100, used: 40, percent: 40 }],
  }));
  assert.ok(r.type === 'report');
  if (r.type !== 'report') return;
  assert.equal(r.mounts, [{ mount: '/var', size: 100, used: 40, percent: 40 }]);
  assert.is(r.metrics.swapUsedBytes, 5);
  for (const mounts of [[{ mount: '/', size: 'x', used: 1, percent: 1 }], [7], 'x', [{ mount: 'x'.repeat(2000), size: 1, used: 1, percent: 1 }]]) {
    assert.is(codeOf(() => parseAgentMessage(JSON.stringify({ type: 'report', at: 1, metrics: METRICS, mounts }))), 'BAD_MESSAGE', JSON.stringify(mounts).slice(0, 50));
  }
});

test('report: a mount\'s type and available are kept, absent from older agents, bounded', () => {
  const parse = (mounts: unknown) => parseAgentMessage(JSON.stringify({ type: 'report', at: 1, metrics: METRICS, mounts }));
  const r = parse([{ mount: '/srv', type: 'xfs', size: 100, used: 40, available: 55, percent: 43 }, { mount: '/old', size: 10, used: 1, percent: 10 }]);
  assert.ok(r.type === 'report');
  if (r.type !== 'report') return;
  assert.equal(r.mounts, [
    { mount: '/srv', type: 'xfs', size: 100, used: 40, available: 55, percent: 43 },
    { mount: '/old', size: 10, used: 1, percent: 10 },
  ]);
  assert.not.ok(r.mounts![1]!.hasOwnProperty('type'), 'no made-up type for an older agent');
  for (const bad of [
    { type: 'x'.repeat(65) }, { type: 7 }, { type: null }, { available: -1 }, { available: '5' }, { available: null }, { available: 2 ** 60 },
  ]) {
    assert.is(codeOf(() => parse([{ mount: '/', size: 1, used: 1, percent: 1, ...bad }])), 'BAD_MESSAGE', JSON.stringify(bad));
  }
});

test('an alert\'s top: at most 3 processes, each checked; absent stays absent (older agents)', () => {
  const a = { type: 'alert', seq: 1, alert: 'CPU_HIGH_RULE', value: 97, threshold: 90, at: 1, rule: 'cpu_high', state: 'firing' };
  const p = { pid: 42, name: 'yes', cpuPercent: 99.5, memBytes: 1024 };
  assert.equal(parseAgentMessage(j({ ...a, top: [p, { ...p, pid: 43, cpuPercent: null, memBytes: null }] })), { ...a, top: [p, { ...p, pid: 43, cpuPercent: null, memBytes: null }] });
  assert.not.ok('top' in parseAgentMessage(j(a)));
  assert.is(agentCode({ ...a, top: [p, p, p, p] }), 'BAD_MESSAGE');
  assert.is(agentCode({ ...a, top: [{ ...p, pid: -1 }] }), 'BAD_MESSAGE');
  assert.is(agentCode({ ...a, top: [{ ...p, name: 'x'.repeat(300) }] }), 'BAD_MESSAGE');
  assert.is(agentCode({ ...a, top: ['yes'] }), 'BAD_MESSAGE');
  assert.equal(parseAlertDatagram(j({ ...a, agentId: 'agent-1', top: [p] })).top, [p]);
});

test('top is a command the manager may send; top is a feature name', () => {
  assert.equal(parseManagerMessage(j({ type: 'req', id: 1, cmd: 'top', args: { sort: 'mem', n: 5 } })), { type: 'req', id: 1, cmd: 'top', args: { sort: 'mem', n: 5 } });
});

test.run();

// Peer text made inert for a terminal: every control character and bidi override shown as an
// escape, tabs and newlines kept only in multi-line text, JSON text still JSON with the same value.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { inert, inertText } from '../../common/util/inert.ts';
import { agentsTable, alertLine, statusText, table } from '../../common/cli/format.ts';

const test = suite('util/inert');
const EVIL = 'evil\x1b[2J\x1b]0;pwn\x07';
/** Anything a terminal would act on: C0 but tab and newline, DEL, C1, bidi overrides and isolates. */
const ACTIVE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

test('escape sequences, BEL, DEL, C1 and bidi controls become visible text', () => {
  assert.is(inert(EVIL), 'evil\\x1b[2J\\x1b]0;pwn\\x07');
  assert.is(inert('a\x7fb\x9bc\x85d'), 'a\\u007fb\\u009bc\\u0085d');
  assert.is(inert('invoice\u202Efdp.exe'), 'invoice\\u202efdp.exe');
  assert.is(inert('\u2066x\u2069\u202a'), '\\u2066x\\u2069\\u202a');
  assert.is(inert('\x00\r'), '\\x00\\x0d');
});

test('every code point from 0 to 0xffff: nothing active is left, everything else passes as is', () => {
  for (let c = 0; c <= 0xffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const ch = String.fromCharCode(c);
    const out = inert(`x${ch}y`);
    assert.not.ok(ACTIVE.test(out) || out.includes('\t') || out.includes('\n'), `U+${c.toString(16)} left active`);
    if (!ACTIVE.test(ch) && ch !== '\t' && ch !== '\n') assert.is(out, `x${ch}y`, `U+${c.toString(16)} kept`);
  }
});

test('plain text, accents, CJK, emoji and Windows paths are untouched', () => {
  for (const s of ['web-1', 'café', '服务器', 'db 🚀', 'C:\\Windows\\System32', 'a "quoted" name']) assert.is(inert(s), s);
});

test('inertText keeps tabs and newlines, escapes the rest; it is idempotent', () => {
  assert.is(inertText(`line one\tx\nline ${EVIL}\r\n`), 'line one\tx\nline evil\\x1b[2J\\x1b]0;pwn\\x07\\x0d\n');
  assert.is(inertText(inertText(EVIL)), inertText(EVIL));
  assert.is(inert(inert(EVIL)), inert(EVIL));
});

test('JSON text stays JSON with the same value (JSON.stringify leaves DEL, C1 and bidi raw)', () => {
  const value = { name: EVIL, label: 'x\u202ey\x7f\x9b', n: [1, 'é'] };
  const text = JSON.stringify(value, null, 2);
  assert.ok(/[\u202e\x7f\x9b]/.test(text), 'JSON.stringify alone leaves them raw');
  const safe = inertText(text);
  assert.not.ok(ACTIVE.test(safe));
  assert.equal(JSON.parse(safe), value);
});

test('tables: a cell cannot carry a control character or break the row, columns stay aligned', () => {
  const t = table([['NAME', 'X'], [`a\nb${EVIL}`, '1'], ['short', '2']]);
  assert.not.ok(ACTIVE.test(t));
  const rows = t.split('\n');
  assert.is(rows.length, 3, 'the newline in the name did not add a row');
  assert.is(rows[1]!.indexOf(' 1'), rows[2]!.indexOf(' 2'), 'aligned on the escaped width');
});

test('agents table, status and alert lines escape the agent\'s words', () => {
  const agents = agentsTable([{ name: EVIL, address: '10.0.0.1', online: true, id: 'abcdef0123', labels: { role: 'x\u202e' }, metrics: {} }]);
  assert.not.ok(ACTIVE.test(agents));
  assert.match(agents, 'evil\\x1b[2J');
  assert.match(agents, 'role=x\\u202e');
  const status = statusText({ hostname: `h\n${EVIL}`, platform: 'linux', cpu: { cores: 2, model: 'M\x9b' }, metrics: {}, disks: [{ mount: `/m\x1b`, size: 1, used: 1, percent: 1, fs: 'ext4' }] });
  assert.not.ok(ACTIVE.test(status));
  assert.match(status, /^host {6}h\\x0aevil/);
  const line = alertLine({ at: '2026-01-01T00:00:00.000Z', agent: EVIL, type: 'DISK_FULL', rule: 'disk_full', state: 'firing', value: '9\x1b', threshold: 1, labels: { mount: '/\u202e' } });
  assert.not.ok(ACTIVE.test(line) || line.includes('\n'));
});

test.run();

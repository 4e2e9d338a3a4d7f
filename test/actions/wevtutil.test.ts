import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { formatWinEvent, parseWevtutilText } from '../../common/actions/wevtutil.ts';
import { fixture } from '../collect/fake-proc.helper.ts';

const test = suite('actions/wevtutil');

test('real /f:text output (CRLF): three events, fields and multi-line descriptions', () => {
  const events = parseWevtutilText(readFileSync(fixture('wevtutil-system-3.txt'), 'utf8'));
  assert.is(events.length, 3);
  assert.equal(events[1], {
    date: '2024-05-14T09:31:02.441',
    level: 'Information',
    source: 'Service Control Manager',
    eventId: '7036',
    message: 'The Windows Modules Installer service entered the stopped state.',
  });
  assert.is(events[2]!.level, 'Critical');
  assert.is(events[2]!.eventId, '41');
  const dcom = events[0]!.message;
  assert.ok(dcom.startsWith('The application-specific permission settings do not grant Local Activation permission'));
  assert.match(dcom, 'CLSID {C2F03A33-21F5-47FA-B4BB-156362A2F239} and APPID {316CDED5');
  assert.ok(dcom.endsWith('Component Services administrative tool.'));
  assert.not.match(dcom, /\r|\n|  /);
});

test('one line per event: "<date> <level> <source>: <message>"', () => {
  const [, scm] = parseWevtutilText(readFileSync(fixture('wevtutil-system-3.txt'), 'utf8'));
  assert.is(formatWinEvent(scm!), '2024-05-14T09:31:02.441 Information Service Control Manager: The Windows Modules Installer service entered the stopped state.');
});

test('localized values, description on the label line, indented description lines, blank lines inside', () => {
  const text = [
    'Event[0]:',
    '  Log Name: System',
    '  Source: Microsoft-Windows-Kernel-Power',
    '  Date: 2019-05-26T10:21:11.251',
    '  Event ID: 107',
    '  Task: N/A',
    '  Level: 信息',
    '  Opcode: 信息',
    '  Keyword: N/A',
    '  User: N/A',
    '  User Name: N/A',
    '  Computer: DESKTOP-ONE',
    '  Description:',
    '系统已从睡眠状态恢复。',
    '',
    'Event[1]:',
    '  Log Name: System',
    '  Source: Win32k',
    '  Event ID: 243',
    '  Level: Warning',
    '  Description: A desktop heap allocation failed.',
    '',
    'Event[2]:',
    '  Log Name: System',
    '  Source: EventLog',
    '  Level: Error',
    '  Description:',
    'The previous system shutdown was unexpected.',
    '',
    '\tProcess ID: 1234',
    '  Status: 0xc0000001',
    '',
  ].join('\n');
  const e = parseWevtutilText(text);
  assert.is(e.length, 3);
  assert.is(e[0]!.level, '信息');
  assert.is(e[0]!.message, '系统已从睡眠状态恢复。');
  assert.is(e[1]!.message, 'A desktop heap allocation failed.');
  assert.is(e[1]!.date, '');
  assert.is(formatWinEvent(e[1]!), '- Warning Win32k: A desktop heap allocation failed.');
  assert.is(e[2]!.message, 'The previous system shutdown was unexpected. Process ID: 1234 Status: 0xc0000001');
});

test('no events in the output: empty list', () => {
  assert.equal(parseWevtutilText(''), []);
  assert.equal(parseWevtutilText('Failed to read events. Access is denied.\r\n'), []);
});

test.run();

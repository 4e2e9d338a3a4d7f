// `manager history <agent> --processes` as text: on a terminal each row is cut to its width (the
// command line losing its end, as `top` does), the headers whole; to a pipe nothing is cut.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { processHistoryText } from '../../common/cli/process-history.ts';
import type { ProcessHistory } from '../../common/api/types.ts';

const test = suite('cli/process-history');
const row = { pid: 13392, user: 'root', name: 'node', cpuPercent: 26, memBytes: 712105984, ioBytesPerSec: null, state: 'S', startedAt: null, command: `/usr/bin/node /srv/app/server.js ${'--flag '.repeat(30)}` };
const h: ProcessHistory = { agent: 'web1', agentId: 'a1', minutes: [{ at: Date.UTC(2026, 11, 6, 14, 5), byCpu: [row], byMem: [row] }], truncated: false, commands: true };

test('on an 80-column terminal every row fits, its command cut with "…"; the headers whole', () => {
  const lines = processHistoryText(h, 80).split('\n');
  const rows = lines.filter((l) => /^13392 /.test(l));
  assert.is(rows.length, 2);
  for (const r of rows) {
    assert.is(r.length, 80, r);
    assert.match(r, /\/usr\/bin\/node \/srv.*…$/);
  }
  assert.ok(lines.some((l) => /^PID\s+USER\s+CPU\s+MEM\s+NAME\s+COMMAND$/.test(l)));
});

test('to a pipe (no width) the command line is whole', () => {
  assert.ok(processHistoryText(h).includes(row.command.trimEnd()));
});

test.run();

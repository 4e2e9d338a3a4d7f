import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadHistory, saveHistory } from '../../common/manager/history-file.ts';
import { ManagerState } from '../../common/manager/state.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

const test = suite('manager/history-file');
test.after(() => cleanTempDirs());

function stateWith(ids: string[]): ManagerState {
  const s = new ManagerState({ historyPoints: 10 });
  for (const id of ids) {
    s.agentUp({ id, name: id, hostname: id, address: '127.0.0.1', platform: 'linux', arch: 'x64', version: 't', interval: 1, restartAllowed: false, filesEnabled: true, trust: 'accepted', fingerprint: 'f' });
  }
  return s;
}

test('every agent\'s samples survive a save and a load, backfill marks and nulls included', () => {
  const path = join(tempDir(), 'history.bin');
  const a = stateWith(['a1', 'a2']);
  for (let i = 0; i < 12; i++) a.report('a1', { cpuPercent: i, memPercent: 50, diskPercent: null, netRxBytes: 1, netTxBytes: 2, uptimeSeconds: 3, processCount: 4 }, undefined, 1000 * i, i === 11);
  a.report('a2', { cpuPercent: 99, memPercent: 1, diskPercent: 2, netRxBytes: 3, netTxBytes: 4, uptimeSeconds: 5, processCount: 6 }, undefined, 5000);
  saveHistory(path, a);
  const b = stateWith(['a1', 'a2']);
  assert.is(loadHistory(path, b), 2);
  const pts = b.history('a1')!.since();
  assert.is(pts.length, 10, 'bounded by the ring');
  assert.equal(pts.map((p) => p.cpuPercent), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.is(pts[0]!.diskPercent, null, 'null stays null');
  assert.is(pts[9]!.backfill, true);
  assert.is(b.history('a2')!.since()[0]!.cpuPercent, 99);
});

test('a missing, foreign or cut file loads nothing and throws nothing', () => {
  const dir = tempDir();
  const s = stateWith(['a1']);
  assert.is(loadHistory(join(dir, 'none.bin'), s), 0);
  writeFileSync(join(dir, 'foreign.bin'), 'not a history file at all');
  assert.is(loadHistory(join(dir, 'foreign.bin'), s), 0);
  const full = join(dir, 'full.bin');
  const src = stateWith(['a1']);
  src.report('a1', { cpuPercent: 1, memPercent: 1, diskPercent: 1, netRxBytes: 1, netTxBytes: 1, uptimeSeconds: 1, processCount: 1 }, undefined, 1);
  saveHistory(full, src);
  const bytes = readFileSync(full);
  writeFileSync(join(dir, 'cut.bin'), bytes.subarray(0, bytes.length - 5));
  assert.is(loadHistory(join(dir, 'cut.bin'), stateWith(['a1'])), 0);
});

test.run();

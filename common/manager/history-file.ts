// Saves every agent's history on a clean stop and loads it on start, in a compact binary file:
// per agent its id, then times (float64), values (float32) and backfill flags of each point.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { History, HISTORY_FIELDS, type HistoryPoint } from './history.ts';
import type { ManagerState } from './state.ts';
import type { Metrics } from '../metrics/types.ts';

export const HISTORY_FILE = 'history.bin';
const MAGIC = 0x48574831; // "HWH1"
const F = HISTORY_FIELDS.length;

export function saveHistory(path: string, state: ManagerState): void {
  // Written agent by agent: 10,000 full rings are ~300 MB, not to be built in memory at once.
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(MAGIC, 0);
    head.writeUInt32BE(state.allHistories().size, 4);
    writeSync(fd, head);
    for (const [id, h] of state.allHistories()) {
      const pts = h.since();
      const idBuf = Buffer.from(id, 'utf8');
      const b = Buffer.alloc(2 + idBuf.length + 4 + pts.length * (8 + 4 * F + 1));
      let o = b.writeUInt16BE(idBuf.length, 0);
      o += idBuf.copy(b, o);
      o = b.writeUInt32BE(pts.length, o);
      for (const p of pts) {
        o = b.writeDoubleBE(p.at, o);
        for (const k of HISTORY_FIELDS) o = b.writeFloatBE(p[k] ?? NaN, o);
        o = b.writeUInt8(p.backfill ? 1 : 0, o);
      }
      writeSync(fd, b);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Loads what a previous run saved; a missing or damaged file just means no history. */
export function loadHistory(path: string, state: ManagerState): number {
  if (!existsSync(path)) return 0;
  let loaded = 0;
  try {
    const b = readFileSync(path);
    if (b.readUInt32BE(0) !== MAGIC) return 0;
    const agents = b.readUInt32BE(4);
    let o = 8;
    for (let a = 0; a < agents; a++) {
      const idLen = b.readUInt16BE(o);
      o += 2;
      const id = b.toString('utf8', o, o + idLen);
      o += idLen;
      const n = b.readUInt32BE(o);
      o += 4;
      const h = new History(state.historyPoints);
      for (let i = 0; i < n; i++) {
        const p = { at: b.readDoubleBE(o) } as HistoryPoint;
        o += 8;
        for (const k of HISTORY_FIELDS) {
          const v = b.readFloatBE(o);
          o += 4;
          p[k] = Number.isNaN(v) ? null : v;
        }
        const backfill = b.readUInt8(o) === 1;
        o += 1;
        h.add(p.at, p as unknown as Metrics, backfill);
      }
      if (state.agent(id)) {
        state.setHistory(id, h);
        loaded++;
      }
    }
  } catch {
    // truncated file (a crash while the old one was being replaced cannot happen: rename is atomic)
  }
  return loaded;
}

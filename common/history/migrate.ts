// The old history file (history.bin: each agent's last samples, saved on a clean stop) is read
// once at start, its samples written into the store as raw samples, and renamed so it is not read
// again.

import { existsSync, readFileSync, renameSync } from 'node:fs';
import type { Metrics } from '../collect/types.ts';
import type { HistoryStore } from './store.ts';

export const OLD_HISTORY_FILE = 'history.bin';
const MAGIC = 0x48574831; // "HWH1"
const OLD_FIELDS = ['cpuPercent', 'memPercent', 'diskPercent', 'netRxRate', 'netTxRate', 'netRxBytes', 'netTxBytes', 'processCount'] as const;

export interface OldPoint {
  at: number;
  backfill: boolean;
  values: Record<(typeof OLD_FIELDS)[number], number | null>;
}

/** Parses history.bin; a truncated tail ends the list (what came before is kept). */
export function parseOldHistory(b: Buffer): Map<string, OldPoint[]> {
  const out = new Map<string, OldPoint[]>();
  if (b.length < 8 || b.readUInt32BE(0) !== MAGIC) return out;
  const agents = b.readUInt32BE(4);
  let o = 8;
  try {
    for (let a = 0; a < agents; a++) {
      const idLen = b.readUInt16BE(o);
      const id = b.toString('utf8', o + 2, o + 2 + idLen);
      o += 2 + idLen;
      const n = b.readUInt32BE(o);
      o += 4;
      const pts: OldPoint[] = [];
      out.set(id, pts);
      for (let i = 0; i < n; i++) {
        const at = b.readDoubleBE(o);
        o += 8;
        const values = {} as OldPoint['values'];
        for (const k of OLD_FIELDS) {
          const v = b.readFloatBE(o);
          o += 4;
          values[k] = Number.isNaN(v) ? null : v;
        }
        pts.push({ at, values, backfill: b.readUInt8(o) === 1 });
        o += 1;
      }
    }
  } catch {
    // RangeError past the end: a truncated file
  }
  return out;
}

/** The interval an agent reported at, from the median gap between its samples (seconds). */
function intervalOf(pts: OldPoint[]): number {
  const gaps = pts.slice(1).map((p, i) => p.at - pts[i]!.at).filter((g) => g > 0).sort((x, y) => x - y);
  const median = gaps[Math.floor(gaps.length / 2)];
  return median ? Math.max(0.1, Math.round(median / 100) / 10) : 5;
}

/**
 * Moves `<dataDir>/history.bin` into the store, then renames it to history.bin.migrated. Only
 * agents `keep` accepts are moved. Returns how many samples were moved (0 when there was no file).
 */
export function migrateOldHistory(path: string, store: HistoryStore, keep: (id: string) => boolean, notice: (line: string) => void): number {
  if (!existsSync(path)) return 0;
  let moved = 0;
  const all = parseOldHistory(readFileSync(path));
  for (const [id, pts] of all) {
    if (!keep(id)) continue;
    const interval = intervalOf(pts);
    for (const p of pts) {
      store.add(id, interval, p.at, { ...p.values, uptimeSeconds: null } as Metrics, undefined, undefined, p.backfill);
      moved++;
    }
  }
  store.flush();
  renameSync(path, `${path}.migrated`);
  notice(`history: moved ${moved} samples of ${all.size} agents from ${path} into the history store (the old file is now ${path}.migrated)`);
  return moved;
}

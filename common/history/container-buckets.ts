// A long span of container records (one a minute) summarised into at most `maxPoints` periods, so a
// week's chart shows the whole week instead of its newest day: per container the mean of each value
// over the records that named it, the state and health seen worst (a stop or an unhealthy minute is
// not averaged away), the last memory limit; `total` and `other.count` their most.

import { CONTAINER_VALUE_KEYS as MEANS, type ContainerUsageOther, type ContainerUsageRow } from '../wire/container-usage.ts';
import type { ContainerRecord } from './container-log.ts';

const MINUTE = 60_000;
type Mean = (typeof MEANS)[number];

export interface Bucketed {
  records: ContainerRecord[];
  /** the length of each period (whole minutes), or null when every record is its own point */
  stepMs: number | null;
}

/** The records (time-ordered) as they are when they fit, else in periods of whole minutes from the first. */
export function bucketRecords(records: readonly ContainerRecord[], maxPoints: number): Bucketed {
  if (records.length <= maxPoints || maxPoints < 2) return { records: [...records], stepMs: null };
  const first = records[0]!.at;
  const span = records[records.length - 1]!.at - first;
  // (maxPoints - 1) whole steps cover the span: at most maxPoints periods.
  const stepMs = Math.max(MINUTE, Math.ceil(span / (maxPoints - 1) / MINUTE) * MINUTE);
  const out: ContainerRecord[] = [];
  let i = 0;
  while (i < records.length) {
    const k = Math.floor((records[i]!.at - first) / stepMs);
    let j = i + 1;
    while (j < records.length && Math.floor((records[j]!.at - first) / stepMs) === k) j++;
    out.push(summarise(records.slice(i, j)));
    i = j;
  }
  return { records: out, stepMs };
}

/** Mean of the values present; null when none is. */
class Means {
  private readonly sum = new Map<Mean, number>();
  private readonly n = new Map<Mean, number>();

  add(v: Partial<Record<Mean, number | null>>): void {
    for (const k of MEANS) {
      const x = v[k];
      if (x === null || x === undefined) continue;
      this.sum.set(k, (this.sum.get(k) ?? 0) + x);
      this.n.set(k, (this.n.get(k) ?? 0) + 1);
    }
  }

  get(k: Mean): number | null {
    const n = this.n.get(k);
    return n ? this.sum.get(k)! / n : null;
  }
}

/** The order in which a state is worse (seen over running). */
const rank = (state: string): number => (state === 'running' ? 0 : 1);
const healthRank = (h: string | null): number => (h === 'unhealthy' ? 2 : h === null ? 0 : 1);

function summarise(group: readonly ContainerRecord[]): ContainerRecord {
  const rows = new Map<string, { means: Means; row: ContainerUsageRow }>();
  const other = new Means();
  let otherCount = -1;
  let total = 0;
  for (const rec of group) {
    total = Math.max(total, rec.total);
    if (rec.other) {
      otherCount = Math.max(otherCount, rec.other.count);
      other.add(rec.other);
    }
    for (const r of rec.rows) {
      let s = rows.get(r.name);
      if (!s) rows.set(r.name, (s = { means: new Means(), row: { ...r } }));
      s.means.add(r);
      if (rank(r.state) >= rank(s.row.state)) s.row.state = r.state;
      if (healthRank(r.health) >= healthRank(s.row.health)) s.row.health = r.health;
      if (r.memLimitBytes !== null) s.row.memLimitBytes = r.memLimitBytes;
    }
  }
  const named: ContainerUsageRow[] = [...rows.values()].map(({ means, row }) => {
    for (const k of MEANS) row[k] = means.get(k);
    return row;
  });
  const rec: ContainerRecord = { at: group[group.length - 1]!.at, total, rows: named };
  if (otherCount >= 0) {
    const o = { count: otherCount } as ContainerUsageOther;
    for (const k of MEANS) o[k] = other.get(k);
    rec.other = o;
  }
  return rec;
}

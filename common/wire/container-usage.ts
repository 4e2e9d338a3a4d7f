// The containers' usage a sample carries for the history (one record every --containers-every):
// the shape both ends agree on, its bounds, and the strict check of the field from an agent.
// Apart from the report's live `containers` (the table now), this one rides the spool and the
// backfill with its sample, so a minute away from the manager is not a hole in the charts.

import { arr, int, isObj, numOrNull, obj, str, type Obj } from './validate.ts';
import { HwError } from '../errors.ts';

/** Containers one record holds at most, named (--containers-top); the rest are summed into `other`. */
export const CONTAINER_USAGE_ROWS_MAX = 50;
/** A name is cut to this many characters by the agent (the engine's own limit is 128 too). */
export const CONTAINER_USAGE_NAME_MAX = 128;
/** A state or health word is cut to this many characters by the agent. */
export const CONTAINER_USAGE_WORD_MAX = 20;

/** The usage fields a container and `other` both have (null: not read; see the live table's reasons). */
export interface ContainerUsageValues {
  /** of one core, as `docker stats` (200 = two cores busy): the mean of the readings in the period */
  cpuPercent: number | null;
  memUsedBytes: number | null;
  /** bytes/s over the period, from the counters' difference (null on the first record, or after a reset) */
  netRxRate: number | null;
  netTxRate: number | null;
  blockReadRate: number | null;
  blockWriteRate: number | null;
}

/** One named container in a record. */
export interface ContainerUsageRow extends ContainerUsageValues {
  name: string;
  /** running, exited, restarting... (the engine's word) */
  state: string;
  /** healthy, unhealthy, starting; null: no healthcheck, or not inspected */
  health: string | null;
  memLimitBytes: number | null;
}

/** The containers past the named ones, summed (sums over those that had the value; null when none had it). */
export interface ContainerUsageOther extends ContainerUsageValues {
  count: number;
}

/** `sample.containerUsage`: the engine's container count, the busiest named, the rest summed. */
export interface SampleContainers {
  total: number;
  rows: ContainerUsageRow[];
  other?: ContainerUsageOther;
}

/** The numeric values of a container's row, in the order they are checked and stored. */
export const CONTAINER_VALUE_KEYS = ['cpuPercent', 'memUsedBytes', 'netRxRate', 'netTxRate', 'blockReadRate', 'blockWriteRate'] as const;

/** `report.containerUsage`, or BAD_MESSAGE naming the field. */
export function checkSampleContainers(o: Obj): SampleContainers {
  const c = obj(o, 'containerUsage');
  const rows = arr(c, 'rows', CONTAINER_USAGE_ROWS_MAX).map((r): ContainerUsageRow => {
    if (!isObj(r)) throw new HwError('BAD_MESSAGE', 'field "containerUsage.rows" must hold objects');
    return {
      name: str(r, 'name', CONTAINER_USAGE_NAME_MAX), state: str(r, 'state', CONTAINER_USAGE_WORD_MAX),
      health: r.health === null || r.health === undefined ? null : str(r, 'health', CONTAINER_USAGE_WORD_MAX),
      memLimitBytes: nonNegative(r, 'memLimitBytes'), ...values(r),
    };
  });
  const out: SampleContainers = { total: int(c, 'total', 0, 10_000_000), rows };
  if (c.other !== undefined && c.other !== null) {
    const x = obj(c, 'other');
    out.other = { count: int(x, 'count', 0, 10_000_000), ...values(x) };
  }
  return out;
}

function values(o: Obj): ContainerUsageValues {
  return Object.fromEntries(CONTAINER_VALUE_KEYS.map((k) => [k, nonNegative(o, k)])) as unknown as ContainerUsageValues;
}

function nonNegative(o: Obj, k: string): number | null {
  const v = numOrNull(o, k);
  if (v !== null && v < 0) throw new HwError('BAD_MESSAGE', `field "containerUsage.${k}" must not be negative`);
  return v;
}

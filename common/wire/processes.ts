// The top processes a report carries (history of who): the bounds both ends agree on and the
// strict check of the field as it arrives from an agent.

import type { ProcessRow, SampleProcesses } from '../collect/types.ts';
import { arr, int, isObj, num, obj, str, type Obj } from './validate.ts';
import { HwError } from '../errors.ts';

/** Rows in each list at most (--processes-top). */
export const PROCESS_ROWS_MAX = 50;
/** A command line is cut to this many characters by the agent. */
export const PROCESS_COMMAND_MAX = 128;
/** A name and a user are cut to this many characters by the agent. */
export const PROCESS_NAME_MAX = 64;
const STATE_MAX = 32;

/** `report.processes`, or BAD_MESSAGE naming the field. */
export function checkSampleProcesses(o: Obj): SampleProcesses {
  const p = obj(o, 'processes');
  return { byCpu: checkRows(arr(p, 'byCpu', PROCESS_ROWS_MAX)), byMem: checkRows(arr(p, 'byMem', PROCESS_ROWS_MAX)) };
}

function checkRows(list: unknown[]): ProcessRow[] {
  return list.map((r) => {
    if (!isObj(r)) throw new HwError('BAD_MESSAGE', 'field "processes" must hold objects');
    return {
      pid: int(r, 'pid', 0, 2 ** 32), name: str(r, 'name', PROCESS_NAME_MAX), user: strOrNull(r, 'user', PROCESS_NAME_MAX),
      command: strOrNull(r, 'command', PROCESS_COMMAND_MAX), cpuPercent: numOrNull(r, 'cpuPercent'), memBytes: numOrNull(r, 'memBytes'),
      ioBytesPerSec: numOrNull(r, 'ioBytesPerSec'), state: strOrNull(r, 'state', STATE_MAX), startedAt: numOrNull(r, 'startedAt'),
    };
  });
}

function strOrNull(o: Obj, k: string, max: number): string | null {
  return o[k] === null || o[k] === undefined ? null : str(o, k, max);
}

function numOrNull(o: Obj, k: string): number | null {
  return o[k] === null || o[k] === undefined ? null : num(o, k);
}

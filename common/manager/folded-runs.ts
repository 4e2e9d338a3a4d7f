// The numbers of an agent's samples that the history folded into a roll-up (a long outage's
// backfill, older than the raw ring), kept on disk across manager restarts: a manager killed after
// the history wrote them but before the agent had their acknowledgement gets them again from the
// agent, and folding one twice would count it twice in its minute. Raw samples need none of this
// (one written again lands in its own slot). One small file per agent that has folded samples,
// written at the flush that folded them, before they are acknowledged; bounded in runs.

import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurable } from '../fs/durable.ts';
import { fileNameOf } from '../fs/file-name.ts';

/** Runs kept per agent (the newest): a backfill folds in a few long runs. */
export const FOLDED_RUNS_KEPT = 64;
const MAX_FILE_BYTES = 16 * 1024;

export interface Folded {
  /** the agent's sample numbering these runs belong to */
  epoch: string;
  runs: [number, number][];
}

export class FoldedRuns {
  constructor(private readonly dir: string) {}

  private path(id: string): string {
    const safe = fileNameOf(id);
    return join(this.dir, `${safe}.json`);
  }

  /** What was kept for the agent; undefined when nothing was (or the file is not ours: ignored). */
  load(id: string): Folded | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(id), 'utf8');
    } catch {
      return undefined;
    }
    if (text.length > MAX_FILE_BYTES) return undefined;
    try {
      const v = JSON.parse(text) as Partial<Folded>;
      const ok = typeof v.epoch === 'string' && Array.isArray(v.runs) && v.runs.length <= FOLDED_RUNS_KEPT
        && v.runs.every((r) => Array.isArray(r) && r.length === 2 && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1]) && r[0] >= 0 && r[0] <= r[1]);
      return ok ? { epoch: v.epoch!, runs: v.runs!.map(([a, b]) => [a, b]) } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Written before the samples are acknowledged; a failing disk throws STORAGE_FAILED (the caller goes on). */
  save(id: string, f: Folded): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeDurable(this.path(id), JSON.stringify(f) + '\n');
  }

  forget(id: string): void {
    rmSync(this.path(id), { force: true });
  }
}

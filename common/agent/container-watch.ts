// Keeps the host's container list fresh for the reports, in the background: never more often than
// every `everyMs`, one ask at a time, and a minute between asks while there is no engine. A report
// takes the latest list as it is; it never waits for the engine.

import type { ContainerOps } from './container-commands.ts';
import { toContainerSamples, type ContainerSample } from '../collect/containers/sample.ts';
import type { ContainerRow, ContainersResult } from '../collect/containers/types.ts';

/** Who else reads each list (the history's taker): a list read at `at`, or the engine failing. */
export interface ListSink {
  observe(rows: ContainersResult['containers'], total: number, at: number): void;
  forget(): void;
}

export class ContainerWatch {
  private readonly engine: Pick<ContainerOps, 'list'>;
  private readonly everyMs: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  private nextAt = 0;
  private busy = false;
  private latest: ContainerSample[] | undefined;
  private readonly sink: ListSink | undefined;
  private readonly onList: ((rows: ContainerRow[]) => void) | undefined;

  /** `sink`: the history's taker; `onList`: each list as the engine answered it (every row, not only a report's), for the container rules. */
  constructor(o: { engine: Pick<ContainerOps, 'list'>; everyMs: number; idleMs?: number; now?: () => number; sink?: ListSink; onList?: (rows: ContainerRow[]) => void }) {
    this.engine = o.engine;
    this.sink = o.sink;
    this.onList = o.onList;
    this.everyMs = o.everyMs;
    this.idleMs = o.idleMs ?? 60_000;
    this.now = o.now ?? Date.now;
  }

  /** The latest list (undefined: none read yet, or no engine), and starts a refresh when one is due. */
  current(): ContainerSample[] | undefined {
    const t = this.now();
    if (!this.busy && t >= this.nextAt) {
      this.busy = true;
      this.engine.list().then((r) => {
        this.latest = toContainerSamples(r.containers);
        this.sink?.observe(r.containers, r.total, this.now());
        this.nextAt = this.now() + this.everyMs;
        this.onList?.(r.containers);
      }, () => {
        // No engine, or one that fails: the reports carry nothing (not an empty list), asked again later.
        this.latest = undefined;
        this.sink?.forget();
        this.nextAt = this.now() + this.idleMs;
      }).finally(() => {
        this.busy = false;
      });
    }
    return this.latest;
  }
}

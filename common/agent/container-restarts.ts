// What a container rule judges from each container list: state and health as listed, and whether
// the container restarted since the previous list, told by its restart count going up (the
// engine's restart policy) or its start time changing (a manual `docker restart` sets the count
// back to 0, as Docker does). A container seen for the first time has not restarted.
import type { ContainerRow } from '../collect/containers/types.ts';
import type { ContainerInput } from './rule-eval.ts';

export class ContainerRestarts {
  private prev = new Map<string, { restartCount: number | null; startedAt: string | null }>();

  /** The rule inputs for this list; containers no longer listed are forgotten. */
  inputs(rows: readonly ContainerRow[]): ContainerInput[] {
    const next = new Map<string, { restartCount: number | null; startedAt: string | null }>();
    const out = rows.map((r) => {
      const p = this.prev.get(r.name);
      const restarted = !!p && ((r.restartCount !== null && p.restartCount !== null && r.restartCount > p.restartCount)
        || (r.startedAt !== null && p.startedAt !== null && r.startedAt !== p.startedAt));
      // A list without the start time (not inspected this time) keeps the last one known.
      next.set(r.name, { restartCount: r.restartCount ?? p?.restartCount ?? null, startedAt: r.startedAt ?? p?.startedAt ?? null });
      return { name: r.name, state: r.state, health: r.health, restarted };
    });
    this.prev = next;
    return out;
  }
}

// A real Docker Engine for the tests: the benchmarks use the same one (scripts/lib/dockerd.ts).
import type { Test } from 'uvu';
import { dockerdMissing, importBusybox, startDockerd, type Dockerd } from '../../scripts/lib/dockerd.ts';

export { dockerdMissing, importBusybox, IMAGE, startDockerd, type Dockerd } from '../../scripts/lib/dockerd.ts';

/**
 * A suite's dockerd, where it can run: started before the suite's tests with IMAGE, then each
 * `docker` command of `runs` (its containers); stopped after them. Call it before
 * cleanupAfterEach, so dockerd is stopped before the temp folders (its data root) go.
 */
export function suiteDockerd(t: Test, runs: string[][]): { missing: string | undefined; engine: () => Dockerd } {
  const missing = dockerdMissing();
  let d: Dockerd | undefined;
  t.after(async () => {
    await d?.stop();
  });
  t.before(async () => {
    if (missing) return;
    d = await startDockerd();
    await importBusybox(d);
    for (const args of runs) await d.docker(args);
  });
  return { missing, engine: () => d! };
}

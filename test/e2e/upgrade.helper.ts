// What the upgrade tests share: the dev agent bundled as another version (B), and the end of the
// agents an upgrade started detached (not children of the test, so killAll does not reach them).

import { build } from 'esbuild';
import { resolve } from 'node:path';
import * as assert from 'uvu/assert';
import { tempDir } from '../harness.helper.ts';
import { BUILD, cli, startManager, type ManagerProc } from './procs.helper.ts';

/** agent.ts bundled as `version` to `outfile` (inside .build, so the bundle finds node_modules). */
export async function buildAgentVersion(outfile: string, version: string): Promise<void> {
  await build({
    entryPoints: [resolve(BUILD, '..', 'agent.ts')], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning',
    define: { 'process.env.HOSTWATCH_COMMIT': '""', 'process.env.HOSTWATCH_VERSION': JSON.stringify(version) },
  });
}

/** A manager with an upgrade key, each [file, version] signed (the version asked from the file). */
export async function managerSigning(files: ReadonlyArray<readonly [string, string]>): Promise<ManagerProc> {
  const data = tempDir('hw-upg-mgr-');
  const made = await cli(data, ['upgrade-key', 'create']);
  assert.is(made.code, 0, made.stderr);
  for (const [file, version] of files) {
    const r = await cli(data, ['upgrade-key', 'sign', file], 30_000);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, `version ${version}`);
  }
  return startManager([], data);
}

export function killPids(pids: Iterable<number>): void {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

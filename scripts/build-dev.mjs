// Bundles the entry files and every test file with esbuild into .build/ (ESM, packages left
// external), so that the programs and the tests run on plain Node from a checkout.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { webAssetsPlugin } from './lib/web-assets.mjs';

function walk(dir, want, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, want, out);
    else if (want(p)) out.push(p);
  }
  return out;
}

function commit() {
  if (process.env.HOSTWATCH_COMMIT) return process.env.HOSTWATCH_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return ''; // not a git checkout
  }
}

export async function buildDev({ tests = true } = {}) {
  const entryPoints = ['manager.ts', 'agent.ts', 'scripts/demo.ts', ...walk('scripts', (p) => p.endsWith('.run.ts'))];
  if (tests) {
    entryPoints.push(...walk('test', (p) => p.endsWith('.test.ts')));
    // A test file renamed or removed must not run on from an old bundle.
    rmSync('.build/test', { recursive: true, force: true });
  }
  await build({
    entryPoints,
    outdir: '.build',
    outbase: '.',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
    plugins: [webAssetsPlugin()],
    define: { 'process.env.HOSTWATCH_COMMIT': JSON.stringify(commit()), 'process.env.HOSTWATCH_VERSION': JSON.stringify(process.env.HOSTWATCH_VERSION ?? '') },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildDev({ tests: !process.argv.includes('--no-tests') });
}

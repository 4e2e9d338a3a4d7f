// esbuild plugin: the virtual module `hostwatch:web-assets` holds the dashboard's files (web/),
// bundled for the browser (web/main.ts -> app.js, web/style.css with uPlot's CSS -> app.css) and
// the static ones as they are. Both builds use it: the dev bundles and the executables.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WEB = join(ROOT, 'web');
const STATIC = ['index.html', 'favicon.svg'];

/** The page's files by name; `minify` for the executables. */
export async function webFiles({ minify = false } = {}) {
  const r = await build({
    entryPoints: { app: join(WEB, 'main.ts'), 'app-style': join(WEB, 'style.css') },
    bundle: true,
    write: false,
    outdir: '/web-out',
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify,
    sourcemap: false,
    logLevel: 'warning',
  });
  const files = {};
  for (const f of r.outputFiles) {
    const name = f.path.endsWith('.css') ? 'app.css' : 'app.js';
    files[name] = f.text;
  }
  for (const name of STATIC) files[name] = readFileSync(join(WEB, name), 'utf8');
  return files;
}

export function webAssetsPlugin({ minify = false } = {}) {
  return {
    name: 'hostwatch-web-assets',
    setup(b) {
      b.onResolve({ filter: /^hostwatch:web-assets$/ }, () => ({ path: 'web-assets', namespace: 'hostwatch-web' }));
      b.onLoad({ filter: /.*/, namespace: 'hostwatch-web' }, async () => {
        const files = await webFiles({ minify });
        return { contents: `export default ${JSON.stringify(files)};`, loader: 'js', watchDirs: [WEB] };
      });
    },
  };
}

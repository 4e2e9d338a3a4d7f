// The page's files, embedded in the manager bundle at build time (scripts/lib/web-assets.mjs
// bundles web/ with esbuild into the virtual module imported here), so that the single-file
// executables serve the dashboard with nothing beside them.

import { createHash } from 'node:crypto';
import files from 'hostwatch:web-assets';

export interface Asset {
  type: string;
  body: Buffer;
  etag: string;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml',
};

let table: Map<string, Asset> | undefined;

/** The asset served at `path` ('/' is the page itself), or undefined. */
export function asset(path: string): Asset | undefined {
  table ??= new Map(Object.entries(files).map(([name, text]) => {
    const body = Buffer.from(text);
    const ext = name.slice(name.lastIndexOf('.') + 1);
    return [`/${name}`, { type: TYPES[ext] ?? 'application/octet-stream', body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }];
  }));
  return table.get(path === '/' ? '/index.html' : path);
}

/** Every path an asset is served at ('/' and each file). */
export function assetPaths(): string[] {
  asset('/');
  return ['/', ...table!.keys()];
}

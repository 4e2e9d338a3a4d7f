// The agent executables the manager hands to new hosts (--agent-dist <dir>), named as
// scripts/build.mjs names its outputs (agent-linux-x64, agent-linux-arm64, agent-win-x64.exe), each
// with its sha256; served on the dashboard's listener at /dist/<name> and /dist/<name>.sha256.

import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { HwError } from '../errors.ts';
import { baseHeaders } from '../http/reply.ts';
import { route, type Route } from '../http/route-table.ts';

export type InstallOs = 'linux' | 'windows';
export type InstallArch = 'x64' | 'arm64';
export const INSTALL_OSES: InstallOs[] = ['linux', 'windows'];
export const INSTALL_ARCHES: InstallArch[] = ['x64', 'arm64'];

/** The file name scripts/build.mjs gives the agent for this platform. */
export function distName(os: InstallOs, arch: InstallArch): string {
  return os === 'windows' ? `agent-win-${arch}.exe` : `agent-linux-${arch}`;
}

const NAME = /^agent-(linux|win)-(x64|arm64)(\.exe)?$/;

/**
 * The default --agent-dist: the folder of the manager's executable; from a checkout (the program
 * runs under `node`), its dist/ folder, where `npm run build` writes.
 */
export function defaultAgentDist(execPath = process.execPath, script = process.argv[1] ?? ''): string {
  return /^node(\.exe)?$/i.test(basename(execPath)) ? resolve(dirname(script), '..', 'dist') : dirname(execPath);
}

export class AgentDist {
  private readonly sums = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

  constructor(readonly dir: string) {}

  /** The file for a name (agent-linux-x64...), or DIST_MISSING naming the folder. */
  file(name: string): { path: string; stat: Stats } {
    if (!NAME.test(name) || name.startsWith('agent-linux-') === name.endsWith('.exe')) {
      throw new HwError('NOT_FOUND', `no agent executable is called ${name.slice(0, 100)} (agent-linux-x64, agent-linux-arm64, agent-win-x64.exe...)`);
    }
    const path = join(this.dir, name);
    let stat: Stats;
    try {
      stat = statSync(path);
    } catch {
      throw new HwError('DIST_MISSING', `no ${name} in ${this.dir}: build it (npm run build -- --targets ...) or start the manager with --agent-dist <folder holding it>`);
    }
    if (!stat.isFile()) throw new HwError('DIST_MISSING', `${path} is not a file`);
    return { path, stat };
  }

  /** The agent executables the folder holds now (none when it cannot be read). */
  present(): string[] {
    try {
      return readdirSync(this.dir).filter((n) => NAME.test(n) && n.startsWith('agent-linux-') !== n.endsWith('.exe')).sort();
    } catch {
      return [];
    }
  }

  /** Its sha256, hex; read again only when the file's size or time changed. */
  async sha256(name: string): Promise<string> {
    const { path, stat } = this.file(name);
    const known = this.sums.get(name);
    if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return known.sha256;
    const h = createHash('sha256');
    await pipeline(createReadStream(path), h);
    const sha256 = h.digest('hex');
    this.sums.set(name, { size: stat.size, mtimeMs: stat.mtimeMs, sha256 });
    return sha256;
  }
}

/**
 * GET /dist/:file: public (the installer has no session), streamed from disk with backpressure; the
 * listener's per-address connection cap bounds how many one host can pull at once.
 */
export function distRoutes(dist: AgentDist): Route<unknown>[] {
  return [route({
    method: 'GET', path: '/dist/:file', access: 'public', surface: 'page', raw: true,
    summary: 'an agent executable from --agent-dist (agent-linux-x64, agent-win-x64.exe...), or its sha256 (<name>.sha256)',
    input: ({ params }) => params.file!,
    handle: async ({ req, res, input }) => {
      const headers = { ...baseHeaders(res), 'cache-control': 'no-store' };
      if (input.endsWith('.sha256')) {
        const name = input.slice(0, -'.sha256'.length);
        const body = `${await dist.sha256(name)}  ${name}\n`;
        res.writeHead(200, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      const { path, stat } = dist.file(input);
      res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream', 'content-length': stat.size, 'content-disposition': `attachment; filename="${input}"` });
      if (req.method === 'HEAD' || stat.size === 0) return void res.end();
      await pipeline(createReadStream(path, { end: stat.size - 1 }), res).catch(() => res.destroy());
    },
  })];
}

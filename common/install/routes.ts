// The control API's install routes: make a host's install command (with a fresh one-use token),
// list and revoke the tokens. The dashboard's address and certificate are known once its listener
// is up: serve sets them on the InstallSite.

import { networkInterfaces } from 'node:os';
import { HwError } from '../errors.ts';
import { route, type Route } from '../http/route-table.ts';
import type { Manager } from '../manager/manager.ts';
import type { InstallToken } from '../manager/install-tokens.ts';
import { formatHostPort } from '../net/address.ts';
import { labelProblem } from '../rules/labels.ts';
import { durationMs } from '../util/units.ts';
import { DEFAULT_TCP_PORT, DEFAULT_UDP_PORT } from '../wire/constants.ts';
import type { InstallCommandAnswer, InstallTokenRow } from '../api/types.ts';
import { installCommand, spkiPin, thumbprint } from './command.ts';
import { AgentDist, distName, INSTALL_ARCHES, INSTALL_OSES, type InstallArch, type InstallOs } from './dist.ts';

export const DEFAULT_INSTALL_TTL_MS = 24 * 3600_000;
const MAX_INSTALL_TTL_MS = 30 * 86400_000;

export interface InstallSite {
  dist: AgentDist;
  /** the dashboard's HTTPS listener, once it listens (undefined without --web) */
  web?: { host: string; port: number; cert: string };
  /** the agents' listener */
  agents?: { host: string; port: number; udpPort: number };
}

export interface InstallRequest {
  os: InstallOs;
  arch: InstallArch;
  labels: string[];
  ttlMs: number;
  /** the name or address other hosts reach the manager by (default: the listeners' address, else this host's first IPv4) */
  address?: string;
  /** the installed service may be upgraded from the manager (agent install --allow-upgrade) */
  allowUpgrade?: boolean;
}

/** The validator of POST /api/install-command (the CLI sends the same fields). */
export function installRequest(b: Record<string, unknown>): InstallRequest {
  const os = b.os ?? 'linux';
  const arch = b.arch ?? 'x64';
  if (!INSTALL_OSES.includes(os as InstallOs)) throw new HwError('BAD_ARGS', `os: "${String(os).slice(0, 20)}" is not one of ${INSTALL_OSES.join(', ')}`);
  if (!INSTALL_ARCHES.includes(arch as InstallArch)) throw new HwError('BAD_ARGS', `arch: "${String(arch).slice(0, 20)}" is not one of ${INSTALL_ARCHES.join(', ')}`);
  const labels = b.labels ?? [];
  if (!Array.isArray(labels) || labels.length > 32) throw new HwError('BAD_ARGS', 'labels: a list of at most 32 name=value');
  for (const l of labels) {
    const m = typeof l === 'string' ? /^([^=]+)=(.*)$/.exec(l) : null;
    const problem = m ? labelProblem(m[1]!, m[2]!) : 'not name=value';
    if (problem) throw new HwError('BAD_ARGS', `label "${String(l).slice(0, 60)}": ${problem}`);
  }
  const ttlMs = b.ttl === undefined ? DEFAULT_INSTALL_TTL_MS : durationMs(b.ttl, 'ttl');
  if (ttlMs < 1000 || ttlMs > MAX_INSTALL_TTL_MS) throw new HwError('BAD_ARGS', 'ttl: from 1s to 30d');
  const address = b.address;
  if (address !== undefined && (typeof address !== 'string' || !/^[A-Za-z0-9.:[\]-]{1,253}$/.test(address))) throw new HwError('BAD_ARGS', 'address: a host name or IP address');
  if (b.allowUpgrade !== undefined && typeof b.allowUpgrade !== 'boolean') throw new HwError('BAD_ARGS', 'allowUpgrade: true or false');
  return { os: os as InstallOs, arch: arch as InstallArch, labels: labels as string[], ttlMs, ...(address ? { address } : {}), ...(b.allowUpgrade ? { allowUpgrade: true } : {}) };
}

function reachableHost(listenHost: string, given: string | undefined): string {
  if (given) return given.replace(/^\[(.*)\]$/, '$1');
  if (listenHost !== '0.0.0.0' && listenHost !== '::') return listenHost;
  const ips = Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === 'IPv4');
  return ips[0]?.address ?? '127.0.0.1';
}

export async function makeInstallCommand(m: Manager, site: InstallSite, r: InstallRequest, by: string): Promise<InstallCommandAnswer> {
  if (!site.web) {
    throw new HwError('WEB_DISABLED', 'the agent is downloaded from the dashboard\'s HTTPS listener, which is off: start the manager with --web <host:port> (e.g. --web 0.0.0.0:8443) and --allow for the new hosts');
  }
  const name = distName(r.os, r.arch);
  const sha256 = await site.dist.sha256(name); // DIST_MISSING before a token is made
  const webHost = reachableHost(site.web.host, r.address);
  const agents = site.agents ?? { host: '0.0.0.0', port: DEFAULT_TCP_PORT, udpPort: DEFAULT_UDP_PORT };
  const agentHost = reachableHost(agents.host, r.address);
  const { token, entry } = m.installTokens.create({ ttlMs: r.ttlMs, by, os: r.os, arch: r.arch, labels: r.labels }, m.now());
  const url = `https://${formatHostPort({ host: webHost, port: site.web.port })}/dist/${name}`;
  const pin = spkiPin(site.web.cert);
  const thumb = thumbprint(site.web.cert);
  const command = installCommand({
    os: r.os, arch: r.arch, url, sha256, pin, thumbprint: thumb, token, labels: r.labels, ...(r.allowUpgrade ? { allowUpgrade: true } : {}),
    manager: agents.port === DEFAULT_TCP_PORT ? formatHostPort({ host: agentHost, port: agents.port }).replace(/:\d+$/, '') : formatHostPort({ host: agentHost, port: agents.port }),
    ...(agents.udpPort !== DEFAULT_UDP_PORT ? { udpPort: agents.udpPort } : {}),
    managerFingerprint: m.fingerprint.replace(/:/g, ''),
  });
  m.state.record({ at: m.now(), event: 'install-token', id: entry.id, os: r.os, arch: r.arch, labels: r.labels, allowUpgrade: !!r.allowUpgrade, expiresAt: entry.expiresAt, by });
  return {
    command, os: r.os, arch: r.arch, url, sha256, pin, thumbprint: thumb, tokenId: entry.id, expiresAt: new Date(entry.expiresAt).toISOString(),
    runAs: r.os === 'windows' ? 'in PowerShell opened with Run as Administrator' : 'as root (sudo -i, then paste it)',
  };
}

export function tokenRow(t: InstallToken, now: number): InstallTokenRow {
  return {
    id: t.id, os: t.os, arch: t.arch, labels: t.labels, by: t.by, createdAt: new Date(t.createdAt).toISOString(), expiresAt: new Date(t.expiresAt).toISOString(),
    state: t.usedBy !== undefined ? 'used' : now >= t.expiresAt ? 'expired' : 'unused', ...(t.usedBy !== undefined ? { usedBy: t.usedBy } : {}),
  };
}

export function installRoutes(m: Manager, site: InstallSite): Route<unknown>[] {
  return [
    route({
      method: 'POST', path: '/api/install-command', access: 'admin', surface: 'api', summary: 'a new host\'s install command, with a fresh one-use enrollment token (`manager install-command`)',
      doc: { body: { os: 'linux (default) or windows', arch: 'x64 (default) or arm64', labels: 'a list of name=value', ttl: 'how long the token lasts (default 24h, 1s to 30d)', address: 'the name or address the new host reaches the manager by', allowUpgrade: 'true: the installed agent runs with --allow-upgrade' } },
      input: async (i) => installRequest(await i.body()),
      handle: ({ input, caller }) => makeInstallCommand(m, site, input, caller.who),
    }),
    route({
      method: 'GET', path: '/api/install-tokens', access: 'admin', surface: 'api', summary: 'the install tokens: unused, used (by which agent) or expired',
      handle: (): InstallTokenRow[] => m.installTokens.list(m.now()).map((t) => tokenRow(t, m.now())),
    }),
    route({
      method: 'DELETE', path: '/api/install-tokens/:id', access: 'admin', surface: 'api', summary: 'revoke an install token: its command no longer enrolls',
      input: ({ params }) => params.id!,
      handle: ({ input, caller }) => {
        const t = m.installTokens.revoke(input);
        m.state.record({ at: m.now(), event: 'install-token-revoked', id: t.id, by: caller.who });
        return tokenRow(t, m.now());
      },
    }),
  ];
}

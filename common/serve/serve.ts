// `manager` with no subcommand: listen for agents and alerts, serve the control API, write
// manager.json for the CLI, print how to connect an agent, and open the console on a terminal.

import { X509Certificate } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { removeStaleTemps, writeDurable } from '../fs/durable.ts';
import type { Server } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_TCP_PORT, DEFAULT_UDP_PORT } from '../wire/constants.ts';
import { PRODUCT, VERSION } from '../version.ts';
import { HwError, isHwError } from '../errors.ts';
import { formatHostPort, isLoopback, type HostPort } from '../net/address.ts';
import type { Allowlist } from '../security/allowlist.ts';
import { loadOrCreateIdentity } from '../security/tls-identity.ts';
import { startLocalApi } from './api-socket.ts';
import { controlHandler, type ApiOptions } from './control.ts';
import { createListener, listen } from '../http/server.ts';
import { Dashboard } from '../web/dashboard.ts';
import { webIdentity, type WebListenConfig } from '../web/https.ts';
import { startNotifier, webhookSecretPath, type NotifyConfig } from '../notify/start.ts';
import { startMetrics } from '../prom/start.ts';
import type { MetricsListener, MetricsListenerLimits } from '../prom/listener.ts';
import type { Notifier } from '../notify/notifier.ts';
import { ConfigControl } from '../config/control.ts';
import { Manager, type ManagerOptions } from '../manager/manager.ts';
import type { RulesConfig } from '../rules/config.ts';
import type { LabelAssign } from '../rules/labels.ts';
import { ENROLL_TOKEN_FILE, loadOrCreateToken } from '../manager/token.ts';
import { inertText } from '../util/inert.ts';
import { AgentDist, defaultAgentDist } from '../install/dist.ts';
import type { InstallSite } from '../install/routes.ts';

export const MANAGER_FILE = 'manager.json';
/** Where the control API listens unless --api says otherwise (the CLI looks there too, after manager.json). */
export const DEFAULT_API = '127.0.0.1:5007';

export interface ServeConfig {
  host: string;
  port: number;
  udpPort: number;
  allow: Allowlist;
  api: HostPort;
  apiPublic: boolean;
  dataDir: string;
  /** accept every new agent at once, without `manager accept` (demo, tests) */
  autoAccept?: boolean;
  retention?: ManagerOptions['retention'];
  /** after a start, how long known agents have to come back before AGENT_DOWN (default: backoff cap) */
  startGraceMs?: number;
  heartbeatMs?: number;
  /** limits and timeouts for tests and tuning */
  tuning?: Pick<ManagerOptions, 'handshakeTimeoutMs' | 'maxHandshaking' | 'maxHandshakingPerAddress' | 'connectsPerSecond' | 'commandTimeoutMs' | 'maxPending' | 'maxPendingPerAddress' | 'pendingTtlMs'> & { api?: ApiOptions; metrics?: MetricsListenerLimits };
  console?: boolean;
  /**
   * Opens the interactive console (with `console`). Passed in by the program so that this folder
   * does not import the CLI's (the console lives with the commands it shares, in common/cli/).
   */
  openConsole?: (manager: Manager, config: ConfigControl, onQuit: () => void) => ConsoleUi;
  /** events.jsonl rotated past this size (--log-max-bytes) */
  logMaxBytes?: number;
  /** the config file's rules (common/rules/config.ts) and labels */
  rules?: RulesConfig;
  labels?: LabelAssign[];
  /** the dashboard's HTTPS listener for other hosts (--web, --web-cert, --web-key) */
  web?: WebListenConfig;
  /** `--agent-dist`: the agent executables served at /dist/ (default: see defaultAgentDist) */
  agentDist?: string;
  /** `--metrics`: the read-only /metrics and /sd listener */
  metrics?: HostPort;
  /** `--alertmanager`, `--webhook`... */
  notify?: NotifyConfig;
  out?: (line: string) => void;
}

/** What serve needs of a console: a way to print above the prompt, and to close it. */
export interface ConsoleUi {
  print(line: string): void;
  close(): void;
}

export interface Serving {
  manager: Manager;
  /** the config file's reload and show; its `source` is set by the program that read the file */
  config: ConfigControl;
  api: Server;
  tcpPort: number;
  udpPort: number;
  apiPort: number;
  /** the control API's Unix socket, when there is one (see api-socket.ts) */
  apiSocket: string | undefined;
  dashboard: Dashboard;
  webPort?: number;
  metricsPort: number | undefined;
  notifier: Notifier | undefined;
  close(): Promise<void>;
}

export async function serve(cfg: ServeConfig): Promise<Serving> {
  // Agents' names and messages reach these lines: nothing in them may act on the terminal.
  const write = cfg.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const out = (l: string) => write(inertText(l));
  if (!isLoopback(cfg.api.host) && !cfg.apiPublic) {
    throw new HwError('BAD_FLAG', `--api ${formatHostPort(cfg.api)} is not on loopback: anyone who can reach it and steals the token controls every agent; add --api-public to do it anyway`);
  }
  const dataDir = resolve(cfg.dataDir);
  let consoleUi: ConsoleUi | undefined;
  const stamp = () => new Date().toISOString().slice(11, 19);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Before anything is written: what a write cut short by a crash left (every state file is in here).
  removeStaleTemps(dataDir, (l) => out(`${stamp()} ${l}`));
  const tls = await loadOrCreateIdentity(dataDir, 'manager', `${PRODUCT}-manager-${hostname()}`);
  const enrollToken = loadOrCreateToken(dataDir, ENROLL_TOKEN_FILE);
  const { api: apiTuning, metrics: metricsTuning, ...managerTuning } = cfg.tuning ?? {};
  const notice = (line: string) => (consoleUi ? consoleUi.print(inertText(line)) : out(`${stamp()} ${line}`));
  const manager = new Manager({
    host: cfg.host, port: cfg.port, udpPort: cfg.udpPort, allow: cfg.allow, dataDir, tls, enrollToken, autoAccept: !!cfg.autoAccept,
    ...(cfg.heartbeatMs ? { heartbeatMs: cfg.heartbeatMs } : {}),
    ...(cfg.retention ? { retention: cfg.retention } : {}),
    ...(cfg.startGraceMs !== undefined ? { startGraceMs: cfg.startGraceMs } : {}),
    ...(cfg.logMaxBytes ? { logMaxBytes: cfg.logMaxBytes } : {}),
    ...(cfg.rules ? { rules: cfg.rules } : {}),
    ...(cfg.labels ? { labels: cfg.labels } : {}),
    ...managerTuning,
    notice,
  });
  const token = loadOrCreateToken(dataDir);
  // Subscribed before agents connect, so every alert recorded is queued for delivery.
  let notifier: Notifier | undefined;
  try {
    notifier = cfg.notify ? startNotifier(manager.state, dataDir, cfg.notify, notice) : undefined;
  } catch (err) {
    await manager.close();
    throw err;
  }
  let bound: Awaited<ReturnType<Manager['listen']>>;
  try {
    bound = await manager.listen();
  } catch (err) {
    await notifier?.close();
    throw err;
  }
  // The record is read back: what it holds but the last run had not queued (killed in between).
  notifier?.queueMissed();
  // Only now: a revocation resolves what still fires for the agent (nothing before is one).
  notifier?.watchRevocations();
  const dashboard = new Dashboard(manager, dataDir);
  // Never plain HTTP off loopback: there the page is only on the --web HTTPS listener.
  const onLoopback = isLoopback(cfg.api.host);
  // The config file behind the manager (set by the program once it has read it): reload and show.
  const config = new ConfigControl({ record: (e) => manager.state.record({ at: manager.now(), ...e } as Parameters<typeof manager.state.record>[0]), notice });
  const install: InstallSite = { dist: new AgentDist(resolve(cfg.agentDist ?? defaultAgentDist())) };
  const deps = { manager, config, token, notifier, tuning: apiTuning, install };
  const api = createListener({ ...apiTuning, what: 'the control API', loopbackHost: onLoopback },
    controlHandler({ ...deps, dashboard: onLoopback ? dashboard : undefined }, { surfaces: onLoopback ? ['api', 'page'] : ['api'], takesToken: true }));
  let web: { server: Server; port: number } | undefined;
  let apiPort: number;
  try {
    apiPort = await listen(api, cfg.api, { what: 'the control API', flag: '--api' });
    if (cfg.web) {
      // The same limits as the control API, with a cap of its own; sessions only, no token.
      const server = createListener({ ...apiTuning, what: 'the dashboard', tls: webIdentity(cfg.web, tls) },
        controlHandler({ ...deps, dashboard }, { surfaces: ['api', 'page'], takesToken: false }));
      web = { server, port: await listen(server, cfg.web.listen, { what: 'the dashboard', flag: '--web' }) };
      install.web = { host: cfg.web.listen.host, port: web.port, cert: webIdentity(cfg.web, tls).cert };
    }
  } catch (err) {
    api.close();
    dashboard.close();
    await manager.close();
    await notifier?.close();
    throw err;
  }
  install.agents = { host: cfg.host, port: bound.tcp.port, udpPort: bound.udp.port };
  const localApi = await startLocalApi(deps, dataDir);
  let metrics: MetricsListener | undefined;
  try {
    metrics = cfg.metrics ? await startMetrics(manager, cfg.metrics, dataDir, tls, notifier, metricsTuning) : undefined;
  } catch (err) {
    api.close();
    api.closeAllConnections();
    localApi.close();
    dashboard.close();
    web?.server.close();
    web?.server.closeAllConnections();
    await notifier?.close();
    await manager.close();
    throw err;
  }
  if (!isLoopback(cfg.api.host)) out(`WARNING: the control API listens on ${cfg.api.host}, outside loopback (--api-public)`);

  const infoPath = join(dataDir, MANAGER_FILE);
  const info = JSON.stringify({
    tcp: formatHostPort({ host: bound.tcp.address, port: bound.tcp.port }),
    udp: formatHostPort({ host: bound.udp.address, port: bound.udp.port }),
    api: formatHostPort({ host: cfg.api.host, port: apiPort }),
    ...(metrics && cfg.metrics ? { metrics: formatHostPort({ host: cfg.metrics.host, port: metrics.port }) } : {}),
    pid: process.pid, version: VERSION, fingerprint: tls.fingerprint,
  }, null, 2) + '\n';
  try {
    writeDurable(infoPath, info);
  } catch (err) {
    // A full disk at start: serve anyway; the CLI then needs --api to find us.
    if (!isHwError(err) || err.code !== 'STORAGE_FAILED') throw err;
    out(`WARNING: ${err.message}: client commands need --api ${formatHostPort({ host: cfg.api.host, port: apiPort })} until the manager restarts with space`);
  }

  out(`${PRODUCT} manager ${VERSION}`);
  out(`  agents connect to  TCP ${formatHostPort({ host: bound.tcp.address, port: bound.tcp.port })}, alerts on UDP ${bound.udp.port}`);
  out(`  allowed hosts      ${cfg.allow.entries.join(', ')}${cfg.allow.entries.join(',') === '127.0.0.0/8,::1' ? '  (loopback only: add --allow <ip|cidr> for other hosts)' : ''}`);
  out(`  control API        http://${formatHostPort({ host: cfg.api.host, port: apiPort })} (token in ${join(dataDir, 'api-token')})`);
  out(`  local API socket   ${localApi.server ? `${localApi.path} (the CLI on this host uses it)` : `none: ${localApi.skipped}`}`);
  dashboard.baseUrl = isLoopback(cfg.api.host) ? `http://${formatHostPort({ host: cfg.api.host, port: apiPort })}/` : web ? `https://${formatHostPort({ host: cfg.web!.listen.host, port: web.port })}/` : '';
  if (notifier) notifier.dashboardUrl = dashboard.baseUrl;
  if (isLoopback(cfg.api.host)) out(`  dashboard          ${dashboard.baseUrl}`);
  if (web) out(`  dashboard          https://${formatHostPort({ host: cfg.web!.listen.host, port: web.port })}/  (HTTPS${cfg.web!.certFile ? '' : `, the manager's certificate ${tls.fingerprint}`})`);
  if (web) {
    const present = install.dist.present();
    out(`  agent downloads    ${present.length ? `${present.join(', ')} from ${install.dist.dir}, at /dist/ on the dashboard (\`manager install-command\`)` : `none in ${install.dist.dir} (npm run build, or --agent-dist <dir>)`}`);
  }
  const rollout = manager.upgrades.status();
  if (rollout?.state === 'interrupted') out(`  upgrade rollout    to ${rollout.version}, interrupted in batch ${rollout.batch ?? '?'} of ${rollout.batches ?? '?'} by a manager restart: \`manager upgrade status\` shows each host, \`manager upgrade resume\` goes on`);
  if (cfg.console && dashboard.baseUrl) out(`  sign in once       ${dashboard.loginLink().url}  (valid 10 minutes, once)`);
  if (!dashboard.users.list().length) out('  dashboard users    none yet: `manager user add <name> --role admin` (or `manager login-link`)');
  if (metrics && cfg.metrics) {
    const where = formatHostPort({ host: cfg.metrics.host, port: metrics.port });
    out(`  metrics            ${metrics.secure ? `https://${where}/metrics and /sd (bearer token in ${join(dataDir, 'metrics-token')})` : `http://${where}/metrics and /sd`}`);
    if (metrics.secure) out(`                     Prometheus: tls_config ca_file ${join(dataDir, 'manager-cert.pem')}, server_name ${certName(tls.cert)}`);
  }
  if (notifier) {
    for (const d of notifier.status().destinations) out(`  notify             ${d.kind} ${d.url}`);
    if (cfg.notify?.webhooks.length) out(`  webhook secret     ${webhookSecretPath(dataDir, cfg.notify)} (HMAC-SHA256 in x-hostwatch-signature)`);
  }
  out(`  record             ${join(dataDir, 'events.jsonl')}`);
  out(`  TLS fingerprint    ${tls.fingerprint}`);
  out(`  new agents         ${cfg.autoAccept ? 'accepted at once (--auto-accept)' : 'pending until `manager accept <agent>`, or at once with the enroll token'}`);
  out(`  start an agent with (the token enrolls it at once; without it, it waits to be accepted):`);
  // The token itself only on a terminal: a service's output ends up in logs others may read. On the
  // agent's host it goes in a file, not on the command line, where `ps` shows it to every user.
  const tokenFile = '/etc/hostwatch/enroll-token';
  if (cfg.console) out(`    (umask 077; mkdir -p ${dirname(tokenFile)}; echo ${enrollToken} > ${tokenFile})`);
  else out(`    copy ${join(dataDir, ENROLL_TOKEN_FILE)} to the agent's host as ${tokenFile}, mode 0600; then`);
  out(`    ${agentCommandLine(cfg.host, bound.tcp.port, bound.udp.port)} --manager-fingerprint ${tls.fingerprint.replace(/:/g, '')} --enroll-token-file ${tokenFile}`);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      consoleUi?.close();
      dashboard.close();
      web?.server.close();
      web?.server.closeAllConnections();
      api.close();
      api.closeAllConnections();
      localApi.close();
      await metrics?.close();
      await manager.close();
      await notifier?.close();
      rmSync(infoPath, { force: true });
    })();
    return closing;
  };

  if (cfg.console && cfg.openConsole) {
    consoleUi = cfg.openConsole(manager, config, () => void close().then(() => process.exit(0)));
  }
  return { manager, config, api, tcpPort: bound.tcp.port, udpPort: bound.udp.port, apiPort, apiSocket: localApi.server ? localApi.path : undefined, dashboard, ...(web ? { webPort: web.port } : {}), metricsPort: metrics?.port, notifier, close };
}

function certName(pem: string): string {
  return new X509Certificate(pem).subject.replace(/^CN=/, '');
}

/** The exact command line an administrator runs on a host to connect it. */
export function agentCommandLine(host: string, tcpPort: number, udpPort: number): string {
  let addr = host;
  if (host === '0.0.0.0' || host === '::') {
    const ips = Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === 'IPv4');
    addr = ips[0]?.address ?? '127.0.0.1';
  }
  const hp = tcpPort === DEFAULT_TCP_PORT ? addr : formatHostPort({ host: addr, port: tcpPort });
  return `agent --manager ${hp}${udpPort === DEFAULT_UDP_PORT ? '' : ` --udp-port ${udpPort}`}`;
}

// `manager` with no command: the serve flags (or the config file's keys of the same names) read
// into a ServeConfig, each value checked with an error that names its flag; then the manager
// served with its console, its config file reloadable (console, API, SIGHUP), and stopped cleanly
// on SIGINT/SIGTERM.

import { consoleSource } from '../api/local-client.ts';
import { ConfigReloader, loadEffective, type ConfigSpec } from '../config/effective.ts';
import { flagsGiven } from '../config/keys.ts';
import { parseHostPort, parsePort } from '../net/address.ts';
import { checkNotifyConfig } from '../notify/start.ts';
import type { RulesConfig } from '../rules/config.ts';
import type { LabelAssign } from '../rules/labels.ts';
import { Allowlist } from '../security/allowlist.ts';
import { DEFAULT_API, serve, type ServeConfig, type Serving } from '../serve/serve.ts';
import { ManagerConsole } from './console.ts';
import { durationFlag, exitOnSignal, last, list, numberFlag, sizeFlag } from './run.ts';

/** Default port of the dashboard's HTTPS listener (--web host[:port]). */
export const DEFAULT_WEB_PORT = 5008;
/** Where `/metrics` and `/sd` listen with `--metrics` and no port given. */
export const DEFAULT_METRICS_PORT = 9105;

/** What the flags set; the console and its opening are the program's. */
export type ServeSettings = Omit<ServeConfig, 'console' | 'openConsole'>;

export function serveSettings(opts: Record<string, unknown>): ServeSettings {
  return {
    host: String(last(opts.host)), port: parsePort(last(opts.port) as string, '--port'), udpPort: parsePort(last(opts.udpPort) as string, '--udp-port'),
    allow: Allowlist.parse(opts.allow === undefined ? undefined : [opts.allow].flat().map(String)),
    api: parseHostPort(String(last(opts.api) ?? DEFAULT_API), 5007, '--api'), apiPublic: !!opts.apiPublic,
    dataDir: String(last(opts.dataDir)), autoAccept: !!opts.autoAccept,
    logMaxBytes: sizeFlag(last(opts.logMaxBytes), '--log-max-bytes', 64 * 1024, 2 ** 40),
    retention: {
      rawMs: durationFlag(last(opts.retentionRaw), '--retention-raw', 600_000, 30 * 86400_000),
      minuteMs: durationFlag(last(opts.retentionMinute), '--retention-minute', 3600_000, 366 * 86400_000),
      hourMs: durationFlag(last(opts.retentionHour), '--retention-hour', 86400_000, 3660 * 86400_000),
    },
    ...(opts.metrics !== undefined ? { metrics: parseHostPort(String(last(opts.metrics) === true ? '127.0.0.1' : last(opts.metrics)), DEFAULT_METRICS_PORT, '--metrics') } : {}),
    notify: checkNotifyConfig({
      alertmanagers: list(opts.alertmanager, '--alertmanager'), webhooks: list(opts.webhook, '--webhook'), webhookFormats: list(opts.webhookFormat, '--webhook-format'),
      ...(opts.webhookSecretFile !== undefined ? { webhookSecretFile: String(last(opts.webhookSecretFile)) } : {}),
    }),
    ...(last(opts.heartbeat) ? { heartbeatMs: numberFlag(last(opts.heartbeat), '--heartbeat', 10, 3_600_000, true) } : {}),
    ...(opts.agentDist !== undefined ? { agentDist: String(last(opts.agentDist)) } : {}),
    ...(opts.web !== undefined ? { web: {
      listen: parseHostPort(String(last(opts.web)), DEFAULT_WEB_PORT, '--web'),
      ...(opts.webCert !== undefined ? { certFile: String(last(opts.webCert)) } : {}),
      ...(opts.webKey !== undefined ? { keyFile: String(last(opts.webKey)) } : {}),
    } } : {}),
  };
}

/** Serve flags a reload applies to the running manager; any other changed flag waits for a restart. */
const RELOADABLE_KEYS = new Set(['auto-accept']);

/** Serves with the flags `opts` (and the config file `path`, if any) until a signal stops it. */
export async function runServe(spec: ConfigSpec<ServeSettings>, path: string | undefined, opts: Record<string, unknown>): Promise<void> {
  const given = flagsGiven(process.argv.slice(2), spec.keys);
  const initial = loadEffective(spec, path, opts, given);
  let srv: Serving | undefined;
  const reloader = new ConfigReloader({
    spec, path, cli: opts, given, initial, reloadable: RELOADABLE_KEYS,
    apply: (next) => {
      srv?.manager.applySettings({ autoAccept: !!next.settings.autoAccept });
      srv?.manager.state.setLabelAssigns(next.sections.labels as LabelAssign[] | undefined);
      srv?.manager.setRules(next.sections.rules as RulesConfig | undefined);
    },
  });
  const s = await serve({
    ...initial.settings,
    ...(initial.sections.rules ? { rules: initial.sections.rules as RulesConfig } : {}),
    ...(initial.sections.labels ? { labels: initial.sections.labels as LabelAssign[] } : {}),
    console: initial.opts.console !== false && !!process.stdin.isTTY && !!process.stdout.isTTY,
    openConsole: (manager, config, onQuit) => {
      const c = new ManagerConsole(consoleSource(manager, config), { input: process.stdin, output: process.stdout, onQuit });
      c.start();
      return c;
    },
  });
  srv = s;
  s.config.source = reloader;
  // The outcome (or the refusal, with every problem) is printed by the manager's notice.
  process.on('SIGHUP', () => {
    try {
      s.config.reload('SIGHUP');
    } catch {
      // refused: the running config stays, the notice says why
    }
  });
  exitOnSignal('telling agents, flushing the record', () => s.close());
}

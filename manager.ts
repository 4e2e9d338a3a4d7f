// The manager program: flags, then either serve (no subcommand) or one client subcommand that
// talks to the running manager through its control API.

import { cac } from 'cac';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from './common/cli/client.ts';
import {
  acceptCmd, agentsCmd, alertsCmd, fetchCmd, historyCmd, logsCmd, pendingCmd, procsCmd, restartCmd, revokeCmd, statusCmd, type Io,
} from './common/cli/commands.ts';
import { ManagerConsole } from './common/cli/console.ts';
import { durationFlag, exitOnSignal, last, list, numberFlag, runCli } from './common/cli/run.ts';
import { registerUserCommands } from './common/cli/users.ts';
import {
  CLIENT_RESPONSE_TIMEOUT_MS, DEFAULT_API, DEFAULT_DATA_DIR, DEFAULT_LOG_MAX_BYTES, DEFAULT_METRICS_PORT, DEFAULT_TCP_PORT, DEFAULT_UDP_PORT, DEFAULT_WEB_PORT, LOG_FILES_KEPT,
  METRICS_TOKEN_FILE, VERSION, WEBHOOK_SECRET_FILE,
} from './common/constants.ts';
import { HwError } from './common/errors.ts';
import { notifyStatusCmd, notifyTestCmd } from './common/cli/notify.ts';
import { consoleSource } from './common/manager/local-client.ts';
import { serve, MANAGER_FILE } from './common/manager/serve.ts';
import { readToken } from './common/manager/token.ts';
import { parseHostPort, parsePort } from './common/net/address.ts';
import { Allowlist } from './common/security/allowlist.ts';
import { createInterface } from 'node:readline';

const commit = process.env.HOSTWATCH_COMMIT;
const cli = cac('manager');
cli.version(`${VERSION}${commit ? ` (${commit})` : ''}`);
cli.usage(`[options]            serve: listen for agents, open the console
  $ manager <command> [options]  ask the running manager`);
cli.option('--api <host:port>', `Control API address (default: from <data-dir>/${MANAGER_FILE}, else ${DEFAULT_API})`);
cli.option('--data-dir <dir>', 'Manager data folder: record, API token, manager.json', { default: DEFAULT_DATA_DIR });
cli.option('--timeout <seconds>', `Client commands: give up (exit 6) when the manager sends nothing for this long (default ${CLIENT_RESPONSE_TIMEOUT_MS / 1000})`);

cli.command('', 'Serve: listen for agents (TCP) and alerts (UDP), with the control API and a console')
  .option('--host <address>', 'Address to listen on for agents', { default: '0.0.0.0' })
  .option('--port <port>', 'TCP port for agents', { default: DEFAULT_TCP_PORT })
  .option('--udp-port <port>', 'UDP port for alerts', { default: DEFAULT_UDP_PORT })
  .option('--allow <ip|cidr,...>', 'Hosts allowed to connect, IPv4/IPv6 addresses or CIDR ranges (default: loopback only; repeatable)')
  .option('--api-public', 'Allow --api on an address outside loopback')
  .option('--auto-accept', 'Accept every new agent at once (trusted networks, demos); otherwise new agents wait for `manager accept`')
  .option('--no-console', 'No interactive console even on a terminal')
  .option('--heartbeat <ms>', 'Heartbeat period in ms (tests)')
  .option('--web <host:port>', `Serve the dashboard over HTTPS on this address too, for other hosts (port ${DEFAULT_WEB_PORT} if not given; the API listener serves it on loopback)`)
  .option('--web-cert <file>', 'PEM certificate for --web (default: the manager\'s own, self-signed)')
  .option('--web-key <file>', 'PEM private key for --web-cert')
  .example('manager --allow 10.0.0.0/24')
  .example('manager --port 6000 --udp-port 6001 --data-dir /var/lib/hostwatch-manager')
  .option('--log-max-bytes <bytes>', `Rotate events.jsonl past this size (${LOG_FILES_KEPT} older files kept as events.jsonl.1...)`, { default: DEFAULT_LOG_MAX_BYTES })
  .option('--retention-raw <duration>', 'History: how long every sample is kept (10m to 30d)', { default: '1d' })
  .option('--retention-minute <duration>', 'History: how long the 1-minute and 5-minute roll-ups are kept (1h to 366d)', { default: '14d' })
  .option('--retention-hour <duration>', 'History: how long the 1-hour roll-ups are kept (1d to 3660d)', { default: '366d' })
  .option('--metrics <host:port>', `Serve Prometheus /metrics and /sd here (read-only; off by default; port ${DEFAULT_METRICS_PORT} if only a host is given). Outside loopback: HTTPS with the manager's certificate and the bearer token of <data-dir>/${METRICS_TOKEN_FILE}`)
  .option('--alertmanager <url>', 'Send alerts to this Alertmanager (repeatable: every cluster member gets every alert)')
  .option('--webhook <url>', 'POST each alert as signed JSON to this URL (repeatable)')
  .option('--webhook-format <json|slack|discord>', 'Body of the webhooks: hostwatch JSON (default), Slack- or Discord-compatible; one for all, or one per --webhook')
  .option('--webhook-secret-file <path>', `HMAC-SHA256 key of the webhook signatures (default: <data-dir>/${WEBHOOK_SECRET_FILE}, made on first use)`)
  .example('manager --metrics 127.0.0.1:9105 --alertmanager http://127.0.0.1:9093')
  .action(async (opts) => {
    const srv = await serve({
      host: String(last(opts.host)), port: parsePort(last(opts.port), '--port'), udpPort: parsePort(last(opts.udpPort), '--udp-port'),
      allow: Allowlist.parse(opts.allow === undefined ? undefined : [opts.allow].flat().map(String)),
      api: parseHostPort(String(last(opts.api) ?? DEFAULT_API), 5007, '--api'), apiPublic: !!opts.apiPublic,
      dataDir: String(last(opts.dataDir)), autoAccept: !!opts.autoAccept,
      logMaxBytes: numberFlag(last(opts.logMaxBytes), '--log-max-bytes', 64 * 1024, 2 ** 40, true),
      retention: {
        rawMs: durationFlag(last(opts.retentionRaw), '--retention-raw', 600_000, 30 * 86400_000),
        minuteMs: durationFlag(last(opts.retentionMinute), '--retention-minute', 3600_000, 366 * 86400_000),
        hourMs: durationFlag(last(opts.retentionHour), '--retention-hour', 86400_000, 3660 * 86400_000),
      },
      console: opts.console !== false && !!process.stdin.isTTY && !!process.stdout.isTTY,
      openConsole: (manager, onQuit) => {
        const c = new ManagerConsole(consoleSource(manager), { input: process.stdin, output: process.stdout, onQuit });
        c.start();
        return c;
      },
      ...(opts.metrics !== undefined ? { metrics: parseHostPort(String(last(opts.metrics) === true ? '127.0.0.1' : last(opts.metrics)), DEFAULT_METRICS_PORT, '--metrics') } : {}),
      notify: {
        alertmanagers: list(opts.alertmanager, '--alertmanager'), webhooks: list(opts.webhook, '--webhook'), webhookFormats: list(opts.webhookFormat, '--webhook-format'),
        ...(opts.webhookSecretFile !== undefined ? { webhookSecretFile: String(last(opts.webhookSecretFile)) } : {}),
      },
      ...(last(opts.heartbeat) ? { heartbeatMs: numberFlag(last(opts.heartbeat), '--heartbeat', 10, 3_600_000, true) } : {}),
      ...(opts.web !== undefined ? { web: {
        listen: parseHostPort(String(last(opts.web)), DEFAULT_WEB_PORT, '--web'),
        ...(opts.webCert !== undefined ? { certFile: String(last(opts.webCert)) } : {}),
        ...(opts.webKey !== undefined ? { keyFile: String(last(opts.webKey)) } : {}),
      } } : {}),
    });
    exitOnSignal('telling agents, flushing the record', () => srv.close());
  });

/** Finds the running manager's API (flag, then manager.json, then the default) and its token. */
function client(opts: { api?: unknown; dataDir: string; timeout?: unknown }): HttpClient {
  const { hp, token, timeoutMs } = apiOf(opts);
  return new HttpClient(hp, token, timeoutMs === undefined ? {} : { responseTimeoutMs: timeoutMs });
}

function apiOf(opts: { api?: unknown; dataDir: string; timeout?: unknown }): { hp: { host: string; port: number }; token: string; timeoutMs?: number } {
  let api = opts.api === undefined ? undefined : String(last(opts.api));
  const dataDir = String(last(opts.dataDir));
  const info = join(dataDir, MANAGER_FILE);
  if (!api && existsSync(info)) {
    try {
      api = JSON.parse(readFileSync(info, 'utf8')).api;
    } catch {
      // a torn file: fall back to the default
    }
  }
  const hp = parseHostPort(api ?? DEFAULT_API, 5007, '--api');
  const timeout = opts.timeout === undefined ? undefined : numberFlag(last(opts.timeout), '--timeout', 0.1, 86_400);
  return { hp, token: readToken(dataDir), ...(timeout === undefined ? {} : { timeoutMs: timeout * 1000 }) };
}

function io(): Io {
  const tty = !!process.stderr.isTTY;
  return {
    out: (t) => process.stdout.write(t + '\n'),
    err: (t) => process.stderr.write(t + '\n'),
    ...(tty ? { progress: (l: string | null) => process.stderr.write(l === null ? '\r\x1b[K' : `\r\x1b[K${l}`) } : {}),
    ...(process.stdin.isTTY ? {
      confirm: (q: string) => new Promise<boolean>((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        rl.question(q, (a) => {
          rl.close();
          resolve(/^y(es)?$/i.test(a.trim()));
        });
      }),
    } : {}),
  };
}

cli.command('agents', 'Every agent: name, id, address, online, last seen, latest metrics')
  .option('--json', 'JSON output')
  .action((o) => agentsCmd(client(o), o, io()));
cli.command('status <agent>', 'Complete system status, asked from the agent now')
  .option('--json', 'JSON output')
  .action((ref, o) => statusCmd(client(o), String(ref), o, io()));
cli.command('procs <agent>', 'Number of running processes')
  .option('--json', 'JSON output')
  .action((ref, o) => procsCmd(client(o), String(ref), o, io()));
cli.command('logs <agent>', 'Latest lines of the system log (or of the agent\'s --log-file)')
  .option('--lines <n>', 'How many lines', { default: 50 })
  .option('--json', 'JSON output')
  .action((ref, o) => logsCmd(client(o), String(ref), o, io()));
cli.command('fetch <agent> <remote-path> [local-path]', 'Download a file from the agent (sha256 checked; progress on a terminal)')
  .option('--force', 'Overwrite the local file')
  .option('--json', 'JSON output')
  .action(async (ref, remote, local, o) => {
    // Ctrl-C cancels on every side: the manager tells the agent (which closes the file), and the
    // .part file is removed before we exit.
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await fetchCmd(client(o), String(ref), String(remote), local === undefined ? undefined : String(local), o, io(), ac.signal);
  });
cli.command('restart <agent>', 'Restart the agent\'s host (the agent must run with --allow-restart)')
  .option('--yes', 'Do not ask for confirmation')
  .action((ref, o) => restartCmd(client(o), String(ref), o, io()));
cli.command('alerts', 'Alerts received (CPU_HIGH, CPU_NORMAL)')
  .option('--json', 'JSON output (with --follow: one JSON object a line)')
  .option('--follow', 'Keep printing new alerts until interrupted')
  .action(async (o) => {
    const ac = new AbortController();
    process.once('SIGINT', () => ac.abort());
    process.once('SIGTERM', () => ac.abort());
    await alertsCmd(client(o), o, io(), ac.signal);
  });

cli.command('history <agent>', 'An agent\'s history: every sample for a day, then 1-min, 5-min and 1-hour min/avg/max')
  .option('--since <duration>', 'How far back: 30s, 10m, 2h, 7d, 365d', { default: '10m' })
  .option('--points <n>', 'At most this many points (longer spans are rolled up into min/avg/max)', { default: 1000 })
  .option('--mounts', 'Also each mount\'s and each interface\'s series (with --json)')
  .option('--json', 'JSON output')
  .example('manager history web1 --since 7d --points 200')
  .action((ref, o) => historyCmd(client(o), String(ref), { since: last(o.since), points: last(o.points), json: o.json, detail: !!o.mounts }, io()));
cli.command('pending', 'Agents waiting to be accepted, with their key fingerprints')
  .option('--json', 'JSON output')
  .action((o) => pendingCmd(client(o), o, io()));
cli.command('accept [agent]', 'Accept a pending agent (check its fingerprint first), or every one with --all')
  .option('--all', 'Accept every pending agent')
  .action((ref, o) => acceptCmd(client(o), ref === undefined ? undefined : String(ref), o, io()));
cli.command('revoke <agent>', 'Forget an agent and refuse its key from now on (it is disconnected)')
  .action((ref, o) => revokeCmd(client(o), String(ref), io()));

registerUserCommands(cli, apiOf);
cli.command('notify <status|test>', 'Alertmanager and webhook destinations: queued, last success, last error; or send a test alert to all')
  .option('--json', 'JSON output (status)')
  .action((what, o) => {
    if (what === 'status') return notifyStatusCmd(client(o), o, io());
    if (what === 'test') return notifyTestCmd(client(o), io());
    throw new HwError('BAD_ARGS', `notify ${String(what)}: use \`notify status\` or \`notify test\``);
  });

cli.help((sections) => {
  sections.push({
    title: 'Agents',
    body: `  <agent> is an agent's name, id (or its first 8+ characters) or IP address.
  Client commands find the running manager through <data-dir>/${MANAGER_FILE} and its token in
  <data-dir>/api-token: run them as the manager's user, with the same --data-dir.`,
  });
  sections.push({
    title: 'Exit codes',
    body: '  0 ok, 1 failed, 2 bad usage, 3 unknown agent, 4 agent offline or pending, 5 manager unreachable or token refused, 6 timeout',
  });
});

void runCli(cli, process.argv, 'manager');

// The manager program: flags, then either serve (no subcommand) or one client subcommand that
// talks to the running manager through its control API.

import { cac } from 'cac';
import { stringify as yamlText } from 'yaml';
import { CLIENT_RESPONSE_TIMEOUT_MS } from './common/cli/client.ts';
import { configShowCmd, reloadCmd, rulesCmd, silenceCmd } from './common/cli/commands.ts';
import { apiOf, client, terminalIo } from './common/cli/connect.ts';
import { registerClientCommands } from './common/cli/register.ts';
import { last, runCli, tidyHelp } from './common/cli/run.ts';
import { DEFAULT_METRICS_PORT, DEFAULT_WEB_PORT, runServe, serveSettings, type ServeSettings } from './common/cli/serve-flags.ts';
import { registerUserCommands } from './common/cli/users.ts';
import { registerUpgradeKeyCommands } from './common/cli/upgrade-key.ts';
import { registerUpgradeCommand } from './common/cli/upgrade.ts';
import { registerInstallCommands } from './common/cli/install.ts';
import { checkConfig, flagView, loadEffective, type ConfigSpec } from './common/config/effective.ts';
import { formatProblems } from './common/config/file.ts';
import { configKeys, flagDefaults } from './common/config/keys.ts';
import { HwError } from './common/errors.ts';
import { COMMAND_TIMEOUT_MS } from './common/manager/agent-link.ts';
import { DEFAULT_LOG_MAX_BYTES, LOG_FILES_KEPT } from './common/manager/event-log.ts';
import { WEBHOOK_SECRET_FILE } from './common/notify/start.ts';
import { METRICS_TOKEN_FILE } from './common/prom/start.ts';
import { finishRules, RULE_READERS } from './common/rules/config.ts';
import { readLabels } from './common/rules/labels-config.ts';
import { DEFAULT_API, MANAGER_FILE } from './common/serve/serve.ts';
import { inertText } from './common/util/inert.ts';
import { VERSION } from './common/version.ts';
import { DEFAULT_TCP_PORT, DEFAULT_UDP_PORT, HEARTBEAT_MS } from './common/wire/constants.ts';

const DEFAULT_DATA_DIR = './manager-data';
const io = terminalIo;

const commit = process.env.HOSTWATCH_COMMIT;
const cli = cac('manager');
cli.version(`${VERSION}${commit ? ` (${commit})` : ''}`);
cli.usage(`[options]            serve (no command): listen for agents, open the console
  $ manager <command> [options]  ask the running manager (manager <command> --help for its options)`);
cli.option('--api <host:port>', `Control API address (default: from <data-dir>/${MANAGER_FILE}, else ${DEFAULT_API})`);
cli.option('--data-dir <dir>', 'Manager data folder: record, API token, manager.json', { default: DEFAULT_DATA_DIR });
cli.option('--timeout <seconds>', `Client commands: give up (exit 6) when the manager sends nothing for this long, in seconds or a duration like 2m (default ${CLIENT_RESPONSE_TIMEOUT_MS / 1000}); with several agents, how long each host has to answer (default ${COMMAND_TIMEOUT_MS / 1000})`);

const serveCmd = cli.command('', 'Serve: listen for agents (TCP) and alerts (UDP), with the control API and a console')
  .usage('[options]            serve (no command): listen for agents, open the console\n  $ manager <command> [options]  ask the running manager (manager <command> --help for its options)')
  .option('--config <file>', 'YAML config file: every serve flag as a key (flags win over it); `reload`, SIGHUP or POST /api/reload apply a change (default: none, flags only)')
  .option('--host <address>', 'Address to listen on for agents', { default: '0.0.0.0' })
  .option('--port <port>', 'TCP port for agents', { default: DEFAULT_TCP_PORT })
  .option('--udp-port <port>', 'UDP port for alerts', { default: DEFAULT_UDP_PORT })
  .option('--allow <ip|cidr,...>', 'Hosts allowed to connect, IPv4/IPv6 addresses or CIDR ranges (default: loopback only; repeatable)')
  .option('--api-public', 'Allow --api on an address outside loopback (off by default: the API is refused outside loopback)')
  .option('--auto-accept', 'Accept every new agent at once (trusted networks, demos); off by default: new agents wait for `manager accept` unless they show the enroll token')
  .option('--no-console', 'Do not start the interactive console (by default it runs when stdin and stdout are a terminal; the manager logs to stdout otherwise)')
  .option('--heartbeat <ms>', `Heartbeat period asked of agents, in ms (tests; default ${HEARTBEAT_MS})`)
  .option('--web <host:port>', `Serve the dashboard over HTTPS on this address too, for other hosts (port ${DEFAULT_WEB_PORT} if not given; off by default: the API listener serves it on loopback only)`)
  .option('--web-cert <file>', 'PEM certificate for --web (default: the manager\'s own, self-signed)')
  .option('--web-key <file>', 'PEM private key for --web-cert (needed with it)')
  .option('--agent-dist <dir>', 'Agent executables (agent-linux-x64, agent-win-x64.exe...) served on --web at /dist/ for `manager install-command` (default: the folder of this executable; from a checkout, its dist/)')
  .example('manager --allow 10.0.0.0/24')
  .example('manager --port 6000 --udp-port 6001 --data-dir /var/lib/hostwatch-manager')
  .example('manager --config /etc/hostwatch/manager.yaml')
  .option('--log-max-bytes <size>', `Rotate events.jsonl past this size: bytes, or 64k, 32M, 1G (${LOG_FILES_KEPT} older files kept as events.jsonl.1...)`, { default: `${DEFAULT_LOG_MAX_BYTES / 1024 ** 2}M` })
  .option('--retention-raw <duration>', 'History: how long every sample is kept (10m to 30d)', { default: '1d' })
  .option('--retention-minute <duration>', 'History: how long the 1-minute and 5-minute roll-ups are kept (1h to 366d)', { default: '14d' })
  .option('--retention-hour <duration>', 'History: how long the 1-hour roll-ups are kept (1d to 3660d)', { default: '366d' })
  .option('--metrics <host:port>', `Serve Prometheus /metrics and /sd here (read-only; off by default; port ${DEFAULT_METRICS_PORT} if only a host is given). Outside loopback: HTTPS with the manager's certificate and the bearer token of <data-dir>/${METRICS_TOKEN_FILE}`)
  .option('--alertmanager <url>', 'Send alerts to this Alertmanager (repeatable: every cluster member gets every alert; default: none)')
  .option('--webhook <url>', 'POST each alert as signed JSON to this URL (repeatable; default: none)')
  .option('--webhook-format <json|slack|discord>', 'Body of the webhooks: hostwatch JSON (default), Slack- or Discord-compatible; one for all, or one per --webhook')
  .option('--webhook-secret-file <path>', `HMAC-SHA256 key of the webhook signatures (default: <data-dir>/${WEBHOOK_SECRET_FILE}, made on first use)`)
  .example('manager --metrics 127.0.0.1:9105 --alertmanager http://127.0.0.1:9093')
  .action((opts) => runServe(serveSpec(), opts.config === undefined ? undefined : String(last(opts.config)), opts));

const serveOptions = () => [...cli.globalCommand.options, ...serveCmd.options];

/** The config file's keys come from serve's own flags (and the global ones), so new flags get keys too. */
function serveSpec(): ConfigSpec<ServeSettings> {
  return { keys: configKeys(serveOptions()), readers: { ...RULE_READERS, labels: readLabels }, finish: finishRules, build: serveSettings };
}

cli.command('config <check|show> [file]', 'check <file>: every problem as file:line:col (exit 2), or ok; show: the running manager\'s effective config, or what [file] gives over the defaults')
  .option('--json', 'JSON output')
  .action(async (action, file, o) => {
    const spec = serveSpec();
    if (action === 'check') {
      if (file === undefined) throw new HwError('BAD_ARGS', 'config check needs the file: manager config check hostwatch.yaml');
      const problems = checkConfig(spec, String(file), flagDefaults(serveOptions()));
      if (problems.length) {
        process.stdout.write(inertText(formatProblems(String(file), problems)) + '\n');
        process.exitCode = 2;
        return;
      }
      process.stdout.write(`${String(file)}: ok\n`);
      return;
    }
    if (action === 'show') {
      if (file === undefined) return configShowCmd(client(o), o, io());
      const eff = loadEffective(spec, String(file), flagDefaults(serveOptions()), new Set());
      const view = { file: String(file), ...flagView(eff.opts, spec.keys), ...eff.sections };
      process.stdout.write(inertText(o.json ? JSON.stringify(view, null, 2) + '\n' : yamlText(view)));
      return;
    }
    throw new HwError('BAD_ARGS', `config ${String(action)}: expected check <file> or show [file]`);
  });
cli.command('rules [agent]', 'Each agent\'s effective rules (the config\'s, with its overrides), whether it runs them, and what fires')
  .option('--json', 'JSON output')
  .action((ref, o) => rulesCmd(client(o), ref === undefined ? undefined : String(ref), o, io()));
cli.command('silence [...args]', 'Hold back notification: silence <agent|glob|label=value> --for 2h [--rule <name>] [--reason ...]; silence list; silence remove <id>')
  .option('--for <duration>', 'How long a new silence lasts (needed to make one): seconds, or 30m, 2h, 1d, 1w (at most 90 days)')
  .option('--rule <name>', 'Only this rule\'s alerts (default: all)')
  .option('--reason <text>', 'Why, shown by silence list')
  .option('--json', 'JSON output')
  .example('manager silence \'web-*\' --for 2h --reason "deploy"')
  .example('manager silence role=db --rule disk_full --for 1d')
  .action((args: unknown[], o) => silenceCmd(client(o), args.map(String), { for: last(o.for), rule: last(o.rule), reason: last(o.reason), json: o.json }, io()));
cli.command('reload', 'Apply the running manager\'s changed config file (a bad file is refused and nothing changes)')
  .option('--json', 'JSON output')
  .action((o) => reloadCmd(client(o), o, io()));

registerClientCommands(cli, client, io);
registerUserCommands(cli, apiOf);
registerUpgradeKeyCommands(cli);
registerUpgradeCommand(cli, client, io);
registerInstallCommands(cli, client, io);

cli.help(tidyHelp('manager', [
  { title: 'Agents', body: `  <agent> is an agent's name, id (or its first 8+ characters) or IP address; id:<id> or name:<name>
  says which when one agent's id is another's name (AGENT_AMBIGUOUS). status, procs, top, logs,
  fetch, restart, services and containers also take a glob ('web-*'), label=value, --label role=db
  or --all, answer host
  by host as each does, then a summary line, and exit 0 only if every host succeeded.
  Client commands find the running manager through <data-dir>/${MANAGER_FILE} and its token in
  <data-dir>/api-token: run them as the manager's user, with the same --data-dir.` },
  { title: 'Durations and sizes', body: '  A duration is seconds (90) or 500ms, 30s, 10m, 2h, 1h30m, 1d, 1w; a size is bytes or 64k, 32M, 1G (KiB, MiB, GiB), 500KB, 100MB.' },
  { title: 'Exit codes', body: '  0 ok, 1 failed, 2 bad usage, 3 unknown or ambiguous agent, 4 agent offline or pending, 5 manager unreachable or token refused, 6 timeout' },
]));

void runCli(cli, process.argv, 'manager');

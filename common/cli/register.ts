// The client subcommands of `manager` that ask the running manager about its agents (one, a
// selection, or all), registered on the program's cac instance.

import type { CAC } from 'cac';
import { DEFAULT_LOG_LINES, MAX_LOG_LINES } from '../wire/constants.ts';
import { HISTORY_DEFAULT_POINTS, HISTORY_MAX_POINTS } from '../history/params.ts';
import { JOB_PARALLEL, TOP_N } from '../api/validate.ts';
import { processHistoryCmd } from './process-history.ts';
import { containerHistoryCmd } from './container-history.ts';
import { HwError } from '../errors.ts';
import type { HttpClient } from './client.ts';
import {
  acceptCmd, agentsCmd, alertsCmd, fetchCmd, historyCmd, logsCmd, pendingCmd, procsCmd, rejectCmd, restartCmd, revokeCmd, servicesCmd, statusCmd, topCmd,
} from './commands.ts';
import type { Io } from './io.ts';
import { notifyStatusCmd, notifyTestCmd } from './notify.ts';
import { containerLogsCmd, containerRestartCmd, containersCmd } from './containers.ts';
import { CONTAINER_LOG_LINES } from '../collect/containers/args.ts';
import { last } from './run.ts';

type ClientOf = (opts: { api?: unknown; dataDir: string; timeout?: unknown }) => HttpClient;

export function registerClientCommands(cli: CAC, client: ClientOf, io: () => Io): void {
  cli.command('agents', 'Every agent: name, id, address, online, last seen, latest metrics')
    .option('--json', 'JSON output')
    .action((o) => agentsCmd(client(o), o, io()));
  /** The selection flags of every agent command: one agent as before, or many at once. */
  function many<T extends ReturnType<typeof cli.command>>(cmd: T): T {
    return cmd
      .option('--label <name=value>', 'Every agent with this label (instead of <agent>)')
      .option('--all', 'Every agent (instead of <agent>)')
      .option('--parallel <n>', `With several agents: how many are asked at once (default ${JOB_PARALLEL.default}, at most ${JOB_PARALLEL.max})`) as T;
  }
  const sel = (o: Record<string, unknown>) => ({ label: last(o.label), all: o.all, parallel: last(o.parallel), timeout: last(o.timeout) });
  const ref = (r: unknown) => (r === undefined ? undefined : String(r));

  many(cli.command('status [agent]', 'Complete system status, asked from the agent now'))
    .option('--json', 'JSON output (several agents: one JSON object a line)')
    .example("manager status 'web-*'")
    .action((r, o) => statusCmd(client(o), ref(r), { ...o, ...sel(o) }, io()));
  many(cli.command('procs [agent]', 'Number of running processes'))
    .option('--json', 'JSON output (several agents: one JSON object a line)')
    .example('manager procs --all --json')
    .action((r, o) => procsCmd(client(o), ref(r), { ...o, ...sel(o) }, io()));
  many(cli.command('logs [agent]', 'Latest lines of the system log (or of the agent\'s --log-file)'))
    .option('-n, --lines <n>', `How many of the latest lines, as tail -n (1 to ${MAX_LOG_LINES})`, { default: DEFAULT_LOG_LINES })
    .example('manager logs web-1 -n 20')
    .option('--json', 'JSON output (several agents: one JSON object a line)')
    .action((r, o) => logsCmd(client(o), ref(r), { ...o, ...sel(o) }, io()));
  many(cli.command('fetch <agent> [remote-path] [local-path]', 'Download a file from the agent (sha256 checked; progress on a terminal); from several: <local-path>/<agent>/<file name>'))
    .option('--force', 'Overwrite the local file (by default an existing file is refused)')
    .option('--json', 'JSON output (several agents: one JSON object a line)')
    .example('manager fetch web1 /var/log/syslog')
    .example("manager fetch 'web-*' /var/log/syslog ./logs")
    .example('manager fetch --label role=db /etc/hosts ./hosts')
    .action(async (a, b, c, o) => {
      // Ctrl-C cancels on every side: the manager tells the agent (which closes the file), and the
      // .part file is removed before we exit.
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // With --label or --all there is no <agent>: the words move up one.
      const byFlag = o.label !== undefined || o.all;
      const [agentRef, remote, local] = byFlag ? [undefined, a, b] : [a, b, c];
      if (byFlag && c !== undefined) throw new HwError('BAD_ARGS', 'with --label or --all: fetch <remote-path> [local-folder]');
      await fetchCmd(client(o), ref(agentRef), remote === undefined ? '' : String(remote), local === undefined ? undefined : String(local), { ...o, ...sel(o) }, io(), ac.signal);
    });
  many(cli.command('restart [agent]', 'Restart the agent\'s host (the agent must run with --allow-restart); several hosts are listed and need --yes'))
    .option('-y, --yes', 'Do not ask for confirmation (asked by default; needed when no one is at a terminal)')
    .option('--json', 'JSON output for several agents')
    .action((r, o) => restartCmd(client(o), ref(r), { ...o, ...sel(o) }, io()));
  cli.command('services [agent]', 'The host\'s services now (systemd units, Windows services): UNIT ACTIVE SUB DESCRIPTION, failed ones first')
    .option('--failed', 'Only the failed ones')
    .option('--label <name=value>', 'Every agent with this label (instead of <agent>)')
    .option('--all', 'Every agent (instead of <agent>)')
    .option('--json', 'JSON output (several agents: one JSON object a line)')
    .example('manager services web-1 --failed')
    .action((r, o) => servicesCmd(client(o), ref(r), { json: o.json, failed: o.failed, label: last(o.label), all: o.all }, io()));
  cli.command('containers [agent]', 'The host\'s containers (Docker, Podman): state, health, restarts, CPU, memory, I/O')
    .option('--label <name=value>', 'Every agent with this label (instead of <agent>)')
    .option('--all', 'Every agent (instead of <agent>)')
    .option('--json', 'JSON output (several agents: one JSON object a line)')
    .example("manager containers 'web-*'")
    .action((r, o) => containersCmd(client(o), ref(r), { json: !!o.json, label: last(o.label), all: o.all }, io()));
  cli.command('container-logs <agent> <name>', 'A container\'s newest log lines (admin only)')
    .option('-n, --lines <n>', `How many of the newest lines (1 to ${CONTAINER_LOG_LINES.max})`, { default: CONTAINER_LOG_LINES.default })
    .option('--json', 'JSON output')
    .example('manager container-logs web1 db -n 50    # <name> as `manager containers web1` lists it')
    .action((a, n, o) => containerLogsCmd(client(o), String(a), String(n), { lines: last(o.lines), json: !!o.json }, io()));
  cli.command('container-restart <agent> <name>', 'Restart a container (admin only, audited; the agent must run with --allow-container-restart)')
    .option('-y, --yes', 'Do not ask for confirmation (asked by default; needed when no one is at a terminal)')
    .example('manager container-restart web1 db --yes    # refused with CONTAINER_RESTART_DISABLED where the agent does not allow it')
    .action((a, n, o) => containerRestartCmd(client(o), String(a), String(n), { yes: !!o.yes }, io()));
  many(cli.command('top [agent]', 'The host\'s processes now, like top: CPU %, memory, I/O rate, state, start, command line (admins only)'))
    .option('--sort <by>', 'cpu, mem or io', { default: 'cpu' })
    .option('-n <n>', `How many (1 to ${TOP_N.max})`, { default: TOP_N.default })
    .option('--json', 'JSON output (several agents: one JSON object a line)')
    .example('manager top web1 --sort mem -n 10')
    .action((r, o) => topCmd(client(o), ref(r), { ...o, sort: last(o.sort), n: last(o.n), ...sel(o), ...(process.stdout.isTTY ? { width: process.stdout.columns } : {}) }, io()));
  cli.command('alerts', 'Alerts received: CPU_HIGH/CPU_NORMAL, AGENT_DOWN/AGENT_UP, each rule\'s (MEMORY_HIGH, MEMORY_HIGH_RESOLVED...)')
    .option('--json', 'JSON output (with --follow: one JSON object a line)')
    .option('--active', 'Only what fires now (fired and not resolved)')
    .option('-f, --follow', 'Keep printing new alerts until interrupted, as tail -f')
    .action(async (o) => {
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      process.once('SIGTERM', () => ac.abort());
      await alertsCmd(client(o), o, io(), ac.signal);
    });

  cli.command('history <agent>', 'An agent\'s history: every sample for a day, then 1-min, 5-min and 1-hour min/avg/max')
    .option('--since <duration>', 'How far back: seconds, or 30s, 10m, 2h, 7d, 365d', { default: '10m' })
    .option('-n, --points <n>', `At most this many points (longer spans are rolled up into min/avg/max; 1 to ${HISTORY_MAX_POINTS})`, { default: HISTORY_DEFAULT_POINTS })
    .option('--mounts', 'Also each mount\'s and each interface\'s series (with --json)')
    .option('--processes', 'The top processes by CPU and by memory instead, one record a minute (--since, or --at)')
    .option('--at <time>', 'With --processes: the minute nearest HH:MM today (local time), or an ISO time')
    .option('--containers', 'Each container\'s CPU, memory, network and disk I/O instead (mean and peak over --since; one record a minute)')
    .option('--container <name>', 'With --containers: only this container, one line a record')
    .option('--json', 'JSON output')
    .example('manager history web1 --since 7d --points 200')
    .example('manager history web1 --processes --at 14:05')
    .example('manager history web1 --containers --since 6h --container db')
    .action((ref, o) => o.at !== undefined && !o.processes
      ? Promise.reject(new HwError('BAD_ARGS', '--at goes with --processes: manager history <agent> --processes --at 14:05'))
      : o.container !== undefined && !o.containers
      ? Promise.reject(new HwError('BAD_ARGS', '--container goes with --containers: manager history <agent> --containers --container db'))
      : o.containers && o.processes
      ? Promise.reject(new HwError('BAD_ARGS', 'give --processes or --containers, not both'))
      : o.containers
      ? containerHistoryCmd(client(o), String(ref), { since: last(o.since), ...(o.container !== undefined ? { container: last(o.container) } : {}), json: o.json }, io())
      : o.processes
      ? processHistoryCmd(client(o), String(ref), { ...(last(o.at) !== undefined ? { at: last(o.at) } : {}), since: last(o.since), json: o.json, ...(process.stdout.isTTY ? { width: process.stdout.columns } : {}) }, io())
      : historyCmd(client(o), String(ref), { since: last(o.since), points: last(o.points), json: o.json, detail: !!o.mounts }, io()));
  cli.command('pending', 'Agents waiting to be accepted, with their key fingerprints')
    .option('--json', 'JSON output')
    .action((o) => pendingCmd(client(o), o, io()));
  cli.command('accept [agent]', 'Accept a pending agent (check its fingerprint first), or every one with --all')
    .option('--all', 'Accept every pending agent (check their fingerprints first)')
    .action((ref, o) => acceptCmd(client(o), ref === undefined ? undefined : String(ref), o, io()));
  cli.command('reject [agent]', 'Refuse pending agents\' keys: one, every one from an address or range (--address), or all (--all)')
    .option('--address <ip|cidr>', 'Every pending agent from this address or CIDR range')
    .option('--all', 'Every pending agent')
    .option('--json', 'JSON output')
    .example('manager reject --address 203.0.113.0/24')
    .action((ref, o) => rejectCmd(client(o), ref === undefined ? undefined : String(ref), { address: last(o.address), all: !!o.all, json: !!o.json }, io()));
  cli.command('revoke <agent>', 'Forget an agent and refuse its key from now on (it is disconnected)')
    .action((ref, o) => revokeCmd(client(o), String(ref), io()));

  cli.command('notify <status|test>', 'Alertmanager and webhook destinations: queued, last success, last error; or send a test alert to all')
    .option('--json', 'JSON output (status)')
    .action((what, o) => {
      if (what === 'status') return notifyStatusCmd(client(o), o, io());
      if (what === 'test') return notifyTestCmd(client(o), io());
      throw new HwError('BAD_ARGS', `notify ${String(what)}: use \`notify status\` or \`notify test\``);
    });
}

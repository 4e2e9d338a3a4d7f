// The agent program: flags, then start().

import { cac } from 'cac';
import { ENROLL_TOKEN_ENV, resolveEnrollToken } from './common/agent/enroll-token.ts';
import { startAgent, DEFAULT_INTERVAL_S } from './common/agent/start.ts';
import { watchStopRequest } from './common/agent/stop-request.ts';
import { durationFlag, exitOnSignal, last, numberFlag, runCli, tidyHelp } from './common/cli/run.ts';
import { DEFAULT_TCP_PORT, DEFAULT_UDP_PORT, HEARTBEAT_MS, MAX_INTERVAL_S, MIN_INTERVAL_S } from './common/wire/constants.ts';
import { VERSION } from './common/version.ts';
import { HwError } from './common/errors.ts';
import { parseLabelFlags } from './common/rules/labels.ts';
import { parseHostList, parsePort } from './common/net/address.ts';
import { normalizeFingerprint } from './common/security/tls-identity.ts';
import { inertText } from './common/util/inert.ts';
import { readUpgradeKeyFlag } from './common/agent/upgrade-key-pin.ts';
import { switchOnUpgrade } from './common/agent/upgrade-run.ts';
import { install, uninstall } from './common/agent/install.ts';

const DEFAULT_STATE_DIR = './agent-state';
/** The CPU rule the agent runs until its manager sends rules. */
const DEFAULT_CPU_THRESHOLD = 80;
const DEFAULT_CPU_FOR_S = 3;

const commit = process.env.HOSTWATCH_COMMIT;
const cli = cac('agent');
cli.version(`${VERSION}${commit ? ` (${commit})` : ''}`);


cli.command('', 'Report this host to a manager and answer its commands')
  .usage('--manager <host[:port],...> [options]   report this host to a manager and answer its commands')
  .option('--manager <host[:port],...>', `Manager address(es), tried in turn (required; default port ${DEFAULT_TCP_PORT})`)
  .option('--udp-port <port>', 'Manager\'s UDP port for alerts', { default: DEFAULT_UDP_PORT })
  .option('--name <name>', 'Name shown by the manager (default: host name)')
  .option('--interval <seconds>', 'Time between metric reports: seconds, or a duration like 1m (1 s to 1 h)', { default: DEFAULT_INTERVAL_S })
  .option('--cpu-threshold <percent>', 'CPU_HIGH above this CPU use, until the manager sends rules', { default: DEFAULT_CPU_THRESHOLD })
  .option('--cpu-for <seconds>', 'How long CPU must stay above (or back below) before alerting: seconds, or a duration like 1m', { default: DEFAULT_CPU_FOR_S })
  .option('--allow-restart', 'Let the manager restart this host (refused by default)')
  .option('--restart-command <cmd>', 'With --allow-restart, run this instead of the platform\'s restart (default: shutdown -r now; Windows: shutdown /r /t 0)')
  .option('--allow-container-restart', 'Let the manager restart this host\'s containers (refused by default)')
  .option('--log-file <path>', 'Answer `logs` from this file instead of the system log (repeatable; default: the system log)')
  .option('--files-root <dir>', 'Let the manager fetch files from inside this folder, checked on the opened file with symlinks resolved (repeatable). Without it every fetch is refused (FILES_DISABLED)')
  .option('--no-files', 'Refuse file downloads even with --files-root')
  .option('--bind <address>', 'Local address to connect from (default: chosen by the system)')
  .option('--manager-fingerprint <sha256>', 'Accept only a manager with this certificate fingerprint (printed by the manager); otherwise the first one seen is pinned')
  .option('--enroll-token-file <path>', `A file holding the manager's enroll token (mode 0600): accepted at once instead of waiting for \`manager accept\`. Or set ${ENROLL_TOKEN_ENV}`)
  .option('--enroll-token <token>', 'The token itself: visible to every user of this host in `ps`, prefer --enroll-token-file')
  .option('--state-dir <dir>', 'Where the agent keeps its id, key, pinned managers and unsent alerts', { default: DEFAULT_STATE_DIR })
  .option('--label <name=value>', 'A label for this host, e.g. role=db, shown by `manager agents` and usable in selectors and rules (repeatable; default: none)')
  .option('--allow-upgrade', 'Let the manager replace this agent with a new executable signed with the pinned upgrade key (refused by default)')
  .option('--upgrade-key <file|base64>', 'The upgrade key to trust (`manager upgrade-key show`); default: the one the manager offers at the first welcome, then pinned')
  .option('--upgrade-probation <duration>', 'After an upgrade, how long the new agent has to be welcomed before the previous one is put back', { default: '60s' })
  .option('--processes-every <duration>', 'How often a report carries the top processes by CPU and by memory, kept in the manager\'s history: a duration, 0 for never', { default: '60s' })
  .option('--processes-top <n>', 'Processes in each of those two lists (1 to 50)', { default: 10 })
  .option('--containers-every <duration>', 'How often a report carries each container\'s CPU, memory, network and disk I/O for the manager\'s history: 0 for never, else 10 s to 1 h', { default: '60s' })
  .option('--containers-top <n>', 'Containers named in that history, the busiest (1 to 50); the rest are summed as "other"', { default: 20 })
  .option('--heartbeat <ms>', `Heartbeat period in ms until the manager sets its own (tests; default ${HEARTBEAT_MS})`)
  .example('agent --manager 10.0.0.5')
  .example('agent --manager 10.0.0.5,10.0.0.6:6000 --interval 10 --allow-restart')
  .example('CONTAINER_HOST=unix:///run/podman/podman.sock agent --manager 10.0.0.5   # containers: the engine at DOCKER_HOST or CONTAINER_HOST, else /var/run/docker.sock, /run/podman/podman.sock')
  .action(async (opts) => {
    if (opts.manager === undefined || opts.manager === true) throw new HwError('BAD_FLAG', '--manager <host> is required, e.g. agent --manager 10.0.0.5');
    const managers = parseHostList([opts.manager].flat().map(String).join(','), DEFAULT_TCP_PORT, '--manager');
    const cpuFor = durationFlag(last(opts.cpuFor), '--cpu-for', 1000, 3_600_000) / 1000;
    const intervalS = durationFlag(last(opts.interval), '--interval', MIN_INTERVAL_S * 1000, MAX_INTERVAL_S * 1000) / 1000;
    const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${inertText(line)}\n`);
    const enrollToken = resolveEnrollToken({
      ...(last(opts.enrollToken) !== undefined ? { flag: String(last(opts.enrollToken)) } : {}),
      ...(last(opts.enrollTokenFile) !== undefined ? { file: String(last(opts.enrollTokenFile)) } : {}),
      ...(process.env[ENROLL_TOKEN_ENV] !== undefined ? { env: process.env[ENROLL_TOKEN_ENV] } : {}),
    }, log);
    delete process.env[ENROLL_TOKEN_ENV]; // not handed down to --restart-command or the log readers
    const agent = await startAgent({
      managers,
      udpPort: parsePort(last(opts.udpPort), '--udp-port', false),
      ...(last(opts.name) !== undefined ? { name: String(last(opts.name)) } : {}),
      stateDir: String(last(opts.stateDir)),
      intervalS,
      cpuThreshold: numberFlag(last(opts.cpuThreshold), '--cpu-threshold', 0, 100),
      cpuForS: cpuFor,
      processesEveryMs: everyFlag(last(opts.processesEvery), '--processes-every', 1000),
      processesTop: numberFlag(last(opts.processesTop), '--processes-top', 1, 50, true),
      containersEveryMs: everyFlag(last(opts.containersEvery), '--containers-every', 10_000),
      containersTop: numberFlag(last(opts.containersTop), '--containers-top', 1, 50, true),
      allowRestart: !!opts.allowRestart,
      allowContainerRestart: !!opts.allowContainerRestart,
      ...(last(opts.restartCommand) ? { restartCommand: String(last(opts.restartCommand)) } : {}),
      logFiles: opts.logFile === undefined ? [] : [opts.logFile].flat().map(String),
      noFiles: opts.files === false,
      ...(opts.filesRoot ? { filesRoots: [opts.filesRoot].flat().map(String) } : {}),
      ...(last(opts.bind) ? { bind: String(last(opts.bind)) } : {}),
      ...(opts.managerFingerprint ? { managerFingerprints: [opts.managerFingerprint].flat().flatMap((f) => String(f).split(',')).map(normalizeFingerprint) } : {}),
      ...(enrollToken ? { enrollToken } : {}),
      ...(opts.label !== undefined ? { labels: parseLabelFlags([opts.label].flat().map(String)) } : {}),
      ...(last(opts.heartbeat) ? { heartbeatMs: numberFlag(last(opts.heartbeat), '--heartbeat', 10, 3_600_000) } : {}),
      log,
      allowUpgrade: !!opts.allowUpgrade,
      ...(last(opts.upgradeKey) !== undefined ? { upgradeKey: readUpgradeKeyFlag(String(last(opts.upgradeKey))) } : {}),
    });
    switchOnUpgrade(agent, { stateDir: String(last(opts.stateDir)), probationMs: durationFlag(last(opts.upgradeProbation), '--upgrade-probation', 1000, 3_600_000), log });
    process.stdout.write(`agent ${VERSION} reporting to ${managers.map((m) => `${m.host}:${m.port}`).join(', ')} every ${intervalS} s\n`);
    const stop = exitOnSignal('finishing what is being written', () => agent.stop());
    // `agent uninstall` (or install again) asks this process to stop: stop-request.ts.
    watchStopRequest(String(last(opts.stateDir)), () => stop('stop requested (agent install or uninstall)'));
  });

cli.command('install', 'Install this executable as a service (systemd; on Windows a task at startup as SYSTEM), start it and wait until it is connected (as root/Administrator)')
  .option('--manager <host[:port],...>', 'Manager address(es) the service reports to (required)')
  .option('--udp-port <port>', 'Manager\'s UDP port for alerts (default: the agent\'s)')
  .option('--manager-fingerprint <sha256>', 'Accept only a manager with this certificate fingerprint')
  .option('--enroll-token-file <path>', 'An enroll token (e.g. from `manager install-command`): copied into the state folder, mode 0600')
  .option('--label <name=value>', 'A label for this host (repeatable)')
  .option('--allow-upgrade', 'The service lets the manager upgrade it (agent --allow-upgrade; the executable\'s folder is writable to it)')
  .option('--wait <duration>', 'How long to wait for the manager\'s welcome: seconds, or a duration like 2m; 0 does not wait (default 60s; with --root, 0)')
  .option('--root <dir>', 'Install under this folder instead of / (tests: no systemctl, no wait)')
  .example('sudo agent install --manager 10.0.0.5 --manager-fingerprint <sha256> --enroll-token-file ./token')
  .action(async (o) => {
    if (o.manager === undefined || o.manager === true) throw new HwError('BAD_FLAG', '--manager <host> is required, e.g. agent install --manager 10.0.0.5');
    const manager = String(last(o.manager));
    parseHostList(manager, DEFAULT_TCP_PORT, '--manager');
    if (o.label !== undefined) parseLabelFlags([o.label].flat().map(String));
    const out = headed('installing the hostwatch agent:');
    await install({
      manager, labels: o.label === undefined ? [] : [o.label].flat().map(String), allowUpgrade: !!o.allowUpgrade,
      ...(last(o.udpPort) !== undefined ? { udpPort: parsePort(last(o.udpPort), '--udp-port', false) } : {}),
      ...(o.managerFingerprint ? { managerFingerprint: normalizeFingerprint(String(last(o.managerFingerprint))).replace(/:/g, '') } : {}),
      ...(last(o.enrollTokenFile) !== undefined ? { enrollTokenFile: String(last(o.enrollTokenFile)) } : {}),
      ...(last(o.root) !== undefined ? { root: String(last(o.root)) } : {}),
      ...(last(o.wait) !== undefined ? { waitMs: durationFlag(last(o.wait), '--wait', 0, 3_600_000) } : {}),
      out,
    });
    out('installed');
  });

cli.command('uninstall', 'Stop and remove the service and the installed executable (keeps the state folder unless --purge); on Windows an agent still running from the state folder (after an upgrade) is asked to stop too')
  .option('--purge', 'Remove the state folder too (the agent\'s id and key: it would enroll as a new agent)')
  .option('--root <dir>', 'Uninstall from under this folder (tests)')
  .action(async (o) => {
    const out = headed('uninstalling the hostwatch agent:');
    await uninstall({ purge: !!o.purge, ...(last(o.root) !== undefined ? { root: String(last(o.root)) } : {}), out });
    out('uninstalled');
  });
/** A printer whose first line is `head`, printed only once there is something under it (not before a refusal). */
function headed(head: string): (line: string) => void {
  let said = false;
  return (line) => {
    if (!said) process.stdout.write(`${head}\n`);
    said = true;
    process.stdout.write(inertText(line) + '\n');
  };
}

/** --processes-every (from 1 s) and --containers-every (from 10 s, the container list's own refresh): 0 for never, else up to 1 h. */
function everyFlag(v: unknown, flag: string, minMs: number): number {
  const ms = durationFlag(v, flag, 0, 3_600_000);
  if (ms !== 0 && ms < minMs) throw new HwError('BAD_FLAG', `${flag}: "${String(v)}" must be 0 or from ${minMs / 1000} s to 1 h`);
  return ms;
}

cli.help(tidyHelp('agent'));

void runCli(cli, process.argv, 'agent');

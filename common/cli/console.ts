// The interactive console of a serving manager: the same commands as the CLI, with history, tab
// completion of commands and agent names, and alerts printed above the line being typed.

import { clearLine, clearScreenDown, createInterface, cursorTo, moveCursor, type Interface } from 'node:readline';
import type { Client } from './client.ts';
import { processHistoryCmd } from './process-history.ts';
import { containerHistoryCmd } from './container-history.ts';
import { containersCmd } from './containers.ts';
import {
  acceptCmd, agentsCmd, rejectCmd, alertsCmd, fetchCmd, historyCmd, logsCmd, pendingCmd, procsCmd, reloadCmd, restartCmd, revokeCmd, configShowCmd, rulesCmd, servicesCmd, silenceCmd, statusCmd, topCmd,
} from './commands.ts';
import type { Io } from './io.ts';
import { agentsTable, alertLine, type Json } from './format.ts';
import { HwError, toWireError } from '../errors.ts';
import { inert, inertText } from '../util/inert.ts';
import { durationMs } from '../util/units.ts';

/** What the console reads from the manager it runs in (common/api/local-client.ts makes it). */
export interface ConsoleSource {
  client: Client;
  /** agent names, for tab completion */
  names: () => string[];
  /** the `agents --json` rows, for watch */
  agents: () => Json[];
  /** calls `fn` with each new alert; returns the unsubscribe */
  onAlert: (fn: (a: Json) => void) => () => void;
}

export const CONSOLE_COMMANDS = [
  'help', 'agents', 'status', 'procs', 'logs', 'fetch', 'restart', 'alerts', 'history', 'pending', 'accept', 'reject', 'revoke', 'reload', 'config', 'rules', 'silence', 'watch', 'quit', 'top',
  'services', 'containers',
];

const HELP = `commands:
  agents                          every agent with its latest metrics
  status <agent>                  complete system status, asked from the agent now
    (status, procs, top, logs, fetch, restart, services and containers also take 'web-*', role=db, --label role=db or --all,
     with --parallel N and --timeout S; fetch from several writes <local>/<agent>/<file>)
  procs <agent>                   number of running processes
  top <agent> [--sort cpu|mem|io] [-n 20]   the host's processes now, like top
  logs <agent> [lines]            latest system log lines (default 50; -n 20 too)
  fetch <agent> <remote> [local]  download a file (sha256 checked; Ctrl-C cancels it)
  restart <agent>                 restart the agent's host (asks first)
  services <agent> [--failed]     the host's services (systemd units, Windows services), failed first
  containers <agent>              the host's containers (Docker, Podman): state, health, CPU, memory, I/O
  alerts [--active]               alerts so far (or only what fires now)
  rules [agent]                   effective rules per agent, and what fires
  silence <agents> --for 2h [--rule r] [--reason why] | silence list | silence remove <id>
  history <agent> [since]         samples kept for an agent, e.g. history web1 30m -n 100 (default 10m);
                                  --processes [--at 14:05]: the top processes kept a minute
                                  --containers [--container db]: each container's usage kept
  pending                         agents waiting to be accepted, with their key fingerprints
  accept <agent> | accept --all   trust a pending agent's key (compare its fingerprint first)
  reject <agent> | reject --address <ip|cidr> | reject --all   refuse pending keys from now on
  revoke <agent>                  forget an agent and refuse its key from now on
  reload                          apply the changed config file (a bad file is refused, nothing changes)
  config                          the effective config
  watch [seconds]                 redraw the agents table until Enter (default every 2 s; 5s, 1m too)
  help, quit
<agent> is a name, an id (or its first 8 characters) or an IP address; add --json for JSON.`;

const VALUED_FLAGS = new Set(['--label', '--parallel', '--timeout', '-n', '--lines', '--points', '--since', '--address', '--sort', '--at', '--container']);
const SELECTION_COMMANDS = new Set(['status', 'procs', 'logs', 'fetch', 'restart', 'services', 'top', 'containers']);
/** With --label or --all these commands have no <agent> word: the others move up one. */
function cmdTakesSelection(cmd: string | undefined): boolean {
  return cmd !== undefined && SELECTION_COMMANDS.has(cmd);
}

export class ManagerConsole {
  private readonly rl: Interface;
  private readonly source: ConsoleSource;
  private readonly client: Client;
  private readonly out: NodeJS.WriteStream;
  private busy = false;
  /** Cancels the download under way (Ctrl-C while `fetch` runs). */
  private cancelFetch: AbortController | undefined;
  private watching: (() => void) | undefined;
  /** The last lines printed during watch, redrawn under the table so a redraw does not wipe them. */
  private watchNotes: string[] = [];
  private readonly onQuit: () => void;

  private readonly unsubscribe: () => void;

  constructor(source: ConsoleSource, opts: { input: NodeJS.ReadStream; output: NodeJS.WriteStream; onQuit: () => void }) {
    this.source = source;
    this.client = source.client;
    this.out = opts.output;
    this.onQuit = opts.onQuit;
    this.rl = createInterface({
      input: opts.input, output: opts.output, prompt: 'manager> ', historySize: 500, terminal: true,
      completer: (line: string) => this.complete(line),
    });
    this.rl.on('line', (line) => void this.onLine(line));
    this.rl.on('close', () => this.onQuit());
    this.rl.on('SIGINT', () => {
      if (this.cancelFetch) this.cancelFetch.abort();
      else if (this.watching) this.watching();
      else if (this.rl.line) {
        // Ctrl-E then Ctrl-U: to the end of the line, then delete everything left of the cursor.
        this.rl.write(null, { ctrl: true, name: 'e' });
        this.rl.write(null, { ctrl: true, name: 'u' });
        this.out.write('\n');
        this.rl.prompt();
      } else {
        this.print('(use quit or Ctrl-D to stop the manager)');
      }
    });
    this.unsubscribe = source.onAlert((a) => this.print(`ALERT ${alertLine(a)}`));
  }

  start(): void {
    this.print('type help for commands');
  }

  /** Prints a line above the prompt without disturbing what is being typed. */
  print(line: string): void {
    const text = inertText(line);
    if (this.watching) {
      this.watchNotes = [...this.watchNotes.slice(-9), text];
      this.out.write(text + '\n');
      return;
    }
    if (this.busy) {
      this.out.write(text + '\n');
      return;
    }
    // The line being typed may wrap over several rows: clear from its first row down, or the rows
    // above the cursor's stay on screen as a stale copy.
    moveCursor(this.out, 0, -this.rl.getCursorPos().rows);
    cursorTo(this.out, 0);
    clearScreenDown(this.out);
    this.out.write(text + '\n');
    this.rl.prompt(true);
  }

  close(): void {
    this.unsubscribe();
    this.rl.close();
  }

  private complete(line: string): [string[], string] {
    const words = line.trimStart().split(/\s+/);
    if (words.length <= 1) {
      const hits = CONSOLE_COMMANDS.filter((c) => c.startsWith(words[0] ?? ''));
      // The second element is what the completions extend: the word, not the leading spaces.
      return [hits.map((h) => h + ' '), words[0] ?? ''];
    }
    if (words.length === 2 && CONSOLE_COMMANDS.includes(words[0]!)) {
      // A name with a control character is not offered: readline would echo it raw.
      const names = this.source.names().filter((n) => inert(n) === n);
      const hits = [...new Set(names)].filter((n) => n.startsWith(words[1]!));
      return [hits.map((h) => h + ' '), words[1]!];
    }
    return [[], line];
  }

  private io(): Io {
    return {
      out: (t) => this.out.write(inertText(t) + '\n'),
      err: (t) => this.out.write(inertText(t) + '\n'),
      progress: (l) => {
        clearLine(this.out, 0);
        cursorTo(this.out, 0);
        if (l !== null) this.out.write(inert(l));
      },
      confirm: (q) => new Promise((resolve) => this.rl.question(q, (a) => resolve(/^y(es)?$/i.test(a.trim())))),
    };
  }

  private async onLine(line: string): Promise<void> {
    if (this.watching) {
      this.watching();
      return;
    }
    const words = line.trim().split(/\s+/).filter(Boolean);
    const json = words.includes('--json');
    const yes = words.includes('--yes') || words.includes('-y');
    const force = words.includes('--force');
    // Flags with a value (--label role=db, --parallel 5, --timeout 10 and --all: the selection of
    // a command to many agents; -n/--lines, -n/--points, --since as the CLI takes them): their
    // values are not positional words.
    const valued: Record<string, string | undefined> = {};
    const positional: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (VALUED_FLAGS.has(w)) valued[w.replace(/^--?/, '')] = words[++i];
      else if (!w.startsWith('-')) positional.push(w);
    }
    const manyOpts = { ...(valued.label !== undefined ? { label: valued.label } : {}), all: words.includes('--all'), parallel: valued.parallel, timeout: valued.timeout };
    const byFlag = valued.label !== undefined || words.includes('--all');
    const args = cmdTakesSelection(positional[0]) && byFlag ? [positional[0]!, undefined, ...positional.slice(1)] : positional;
    const [cmd, a1, a2, a3] = args;
    if (!cmd) {
      this.rl.prompt();
      return;
    }
    this.busy = true;
    const io = this.io();
    try {
      const need = (v: string | undefined, what: string): string => {
        if (!v) throw new HwError('BAD_ARGS', `${cmd} needs ${what} (try help)`);
        return v;
      };
      switch (cmd) {
        case 'help':
        case '?':
          io.out(HELP);
          break;
        case 'agents':
        case 'ls':
          await agentsCmd(this.client, { json }, io);
          break;
        case 'status':
          await statusCmd(this.client, a1, { json, ...manyOpts }, io);
          break;
        case 'procs':
          await procsCmd(this.client, a1, { json, ...manyOpts }, io);
          break;
        case 'top':
          await topCmd(this.client, a1, { json, sort: valued.sort, n: valued.n, ...manyOpts, ...(process.stdout.isTTY ? { width: process.stdout.columns } : {}) }, io);
          break;
        case 'logs':
          await logsCmd(this.client, a1, { json, lines: valued.lines ?? valued.n ?? a2, ...manyOpts }, io);
          break;
        case 'fetch':
          this.cancelFetch = new AbortController();
          try {
            await fetchCmd(this.client, byFlag ? undefined : need(a1, 'an agent'), need(a2, 'a remote path'), a3, { force, json, ...manyOpts }, io, this.cancelFetch.signal);
          } finally {
            this.cancelFetch = undefined;
          }
          break;
        case 'restart':
          await restartCmd(this.client, a1, { yes, json, ...manyOpts }, io);
          break;
        case 'services':
          await servicesCmd(this.client, a1, { json, failed: words.includes('--failed'), ...manyOpts }, io);
          break;
        case 'containers':
          await containersCmd(this.client, a1, { json, ...manyOpts }, io);
          break;
        case 'alerts':
          await alertsCmd(this.client, { json, active: words.includes('--active') }, io);
          break;
        case 'history':
          if (words.includes('--containers')) {
            await containerHistoryCmd(this.client, need(a1, 'an agent'), { since: valued.since ?? a2 ?? '10m', ...(valued.container !== undefined ? { container: valued.container } : {}), json }, io);
            break;
          }
          if (words.includes('--processes')) {
            await processHistoryCmd(this.client, need(a1, 'an agent'), { ...(valued.at !== undefined ? { at: valued.at } : {}), since: valued.since ?? a2 ?? '10m', json, ...(process.stdout.isTTY ? { width: process.stdout.columns } : {}) }, io);
            break;
          }
          await historyCmd(this.client, need(a1, 'an agent'), { since: valued.since ?? a2 ?? '10m', points: valued.points ?? valued.n, json }, io);
          break;
        case 'pending':
          await pendingCmd(this.client, { json }, io);
          break;
        case 'accept':
          await acceptCmd(this.client, a1, { all: words.includes('--all') }, io);
          break;
        case 'reject':
          await rejectCmd(this.client, a1, { ...(valued.address !== undefined ? { address: valued.address } : {}), all: words.includes('--all'), json }, io);
          break;
        case 'rules':
          await rulesCmd(this.client, a1, { json }, io);
          break;
        case 'silence': {
          const flag = (name: string) => {
            const i = words.indexOf(name);
            return i >= 0 ? words[i + 1] : undefined;
          };
          const reasonAt = words.indexOf('--reason');
          const reason = reasonAt >= 0 ? words.slice(reasonAt + 1).join(' ') : undefined;
          const valueOf = new Set([flag('--for'), flag('--rule')].filter(Boolean));
          const rest = words.slice(1, reasonAt >= 0 ? reasonAt : undefined).filter((w) => !w.startsWith('-') && !valueOf.has(w));
          await silenceCmd(this.client, rest, { for: flag('--for'), rule: flag('--rule'), reason, json }, io);
          break;
        }
        case 'reload':
          await reloadCmd(this.client, { json }, io);
          break;
        case 'config':
          await configShowCmd(this.client, { json }, io);
          break;
        case 'revoke':
          await revokeCmd(this.client, need(a1, 'an agent'), io);
          break;
        case 'watch':
          this.busy = false;
          await this.watch(a1 === undefined ? 2 : Math.max(0.5, durationMs(a1, 'watch') / 1000));
          break;
        case 'quit':
        case 'exit':
          this.busy = false;
          this.rl.close();
          return;
        default:
          io.out(`unknown command "${cmd}": type help`);
      }
    } catch (err) {
      const e = toWireError(err);
      io.out(`error ${e.code}: ${e.message}`);
    }
    this.busy = false;
    this.rl.prompt();
  }

  private watch(seconds: number): Promise<void> {
    return new Promise((resolve) => {
      const draw = () => {
        this.out.write('\x1b[2J\x1b[H');
        this.out.write(`${new Date().toISOString()}  every ${seconds} s, Enter to stop\n\n`);
        this.out.write(inertText(agentsTable(this.source.agents())) + '\n');
        if (this.watchNotes.length) this.out.write('\n' + this.watchNotes.join('\n') + '\n');
      };
      draw();
      const timer = setInterval(draw, seconds * 1000);
      this.watching = () => {
        clearInterval(timer);
        this.watching = undefined;
        this.watchNotes = [];
        resolve();
      };
    });
  }
}

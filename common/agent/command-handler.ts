// Answers the manager's requests (status, procs, logs, fetch, restart, services, containers, top), each in its own task so a
// slow one (a big download, a slow log source) never holds up another. Every failure goes back as
// a coded error; nothing thrown here reaches the connection.

import { DEFAULT_LOG_LINES, MAX_LOG_LINES } from '../wire/constants.ts';
import { HwError, toWireError } from '../errors.ts';
import type { FullStatus, ProcessSort, TopProcesses } from '../collect/types.ts';
import type { LogsResult } from '../actions/logs.ts';
import { servicesAnswer } from '../actions/services.ts';
import type { ServiceRow } from '../api/types.ts';
import type { Request } from '../wire/messages.ts';
import type { Link } from './connection.ts';
import type { FileSender } from './file-sender.ts';

export interface CommandHandlerOptions {
  status: () => Promise<FullStatus>;
  processCount: () => Promise<{ processCount: number | null; reason?: string }>;
  readLogs: (o: { lines: number; logFiles?: string[] }) => Promise<LogsResult>;
  restart: () => Promise<void>;
  /** the host's services; absent: not readable by this agent */
  services?: (o?: { details?: boolean }) => Promise<{ source: string; rows: ServiceRow[] }>;
  /** absent: this agent cannot list processes (it does not name FEATURES.top) */
  topProcesses?: (o: { n: number; sort: ProcessSort }) => Promise<TopProcesses>;
  files: FileSender;
  /** refuses a real path outside --files-root; absent: file download is off (no --files-root) */
  filesCheck?: (real: string) => void;
  allowRestart: boolean;
  restartCommand?: string;
  logFiles: string[];
  /** the container commands (common/agent/container-commands.ts) */
  containers?: (cmd: 'containers' | 'container-logs' | 'container-restart', args: unknown) => Promise<unknown>;
  log: (line: string) => void;
}

/** Files are off unless the host's operator shares a folder, as restarts need --allow-restart. */
export const FILES_OFF = 'file download is off on this agent: its operator enables it with `agent --files-root <dir>` (only files inside <dir> can be fetched)';

export class CommandHandler {
  private readonly o: CommandHandlerOptions;

  constructor(o: CommandHandlerOptions) {
    this.o = o;
  }

  async handle(peer: Link, req: Request): Promise<void> {
    try {
      if (req.cmd === 'fetch') {
        if (!this.o.filesCheck) throw new HwError('FILES_DISABLED', FILES_OFF);
        const path = req.args.path;
        if (typeof path !== 'string' || !path) throw new HwError('BAD_ARGS', 'fetch needs a path');
        await this.o.files.send(peer, req.id, path, this.o.filesCheck);
        return;
      }
      const result = await this.run(req);
      await peer.send({ type: 'res', id: req.id, ok: true, result });
      if (req.cmd === 'restart') {
        this.o.log('restart requested by the manager: restarting the host');
        this.o.restart().catch((err) => this.o.log(`restart failed: ${(err as Error).message}`));
      }
    } catch (err) {
      const e = toWireError(err);
      // The manager gets one answer for "outside the root" and "no such file"; the host's own log
      // keeps the real reason.
      const cause = (err as Error).cause;
      if (req.cmd === 'fetch') this.o.log(`file transfer ${String(req.args.path)} failed: ${e.message} [${e.code}]${cause instanceof Error ? ` (${cause.message})` : ''}`);
      if (!peer.closed) peer.post({ type: 'res', id: req.id, ok: false, error: e });
    }
  }

  private async run(req: Request): Promise<unknown> {
    switch (req.cmd) {
      case 'status':
        return this.o.status();
      case 'procs':
        return this.o.processCount();
      case 'logs': {
        const n = req.args.lines === undefined ? DEFAULT_LOG_LINES : req.args.lines;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_LOG_LINES) {
          throw new HwError('BAD_ARGS', `lines must be a whole number from 1 to ${MAX_LOG_LINES}`);
        }
        return this.o.readLogs({ lines: n, ...(this.o.logFiles.length ? { logFiles: this.o.logFiles } : {}) });
      }
      case 'services': {
        const failed = req.args.failed ?? false;
        if (typeof failed !== 'boolean' || Object.keys(req.args).some((k) => k !== 'failed')) throw new HwError('BAD_ARGS', 'services takes only "failed" (true or false)');
        if (!this.o.services) throw new HwError('SERVICES_UNAVAILABLE', 'this agent cannot list services on this host');
        const { source, rows } = await this.o.services({ details: true });
        return servicesAnswer(source, rows, failed);
      }
      case 'restart':
        if (!this.o.allowRestart) {
          throw new HwError('RESTART_DISABLED', 'this agent does not allow restarts: start it with --allow-restart');
        }
        return { restarting: true, command: this.o.restartCommand ?? 'system default' };
      case 'containers':
      case 'container-logs':
      case 'container-restart':
        if (!this.o.containers) throw new HwError('UNKNOWN_COMMAND', `${req.cmd}: containers are not read by this agent`);
        return this.o.containers(req.cmd, req.args);
      case 'top': {
        if (!this.o.topProcesses) throw new HwError('UNAVAILABLE', 'this agent cannot list processes on this system');
        return this.o.topProcesses(topArgs(req.args));
      }
      default:
        throw new HwError('UNKNOWN_COMMAND', `unknown command ${String(req.cmd)}`);
    }
  }
}

/** `top`'s arguments: sort cpu, mem or io (default cpu), n from 1 to 100 (default 20). */
export function topArgs(a: Record<string, unknown>): { n: number; sort: ProcessSort } {
  const sort = a.sort ?? 'cpu';
  if (sort !== 'cpu' && sort !== 'mem' && sort !== 'io') throw new HwError('BAD_ARGS', 'sort must be cpu, mem or io');
  const n = a.n ?? 20;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100) throw new HwError('BAD_ARGS', 'n must be a whole number from 1 to 100');
  return { n, sort };
}

// The console's client: the manager's own state and commands, in-process, no HTTP, through the
// same validators and JSON shapes as the HTTP API. It has the shape of the CLI's Client
// (common/cli/client.ts), checked where the two meet (manager.ts), so this folder does not import
// the CLI's.

import { HwError } from '../errors.ts';
import { PartFile } from '../fs/part-file.ts';
import type { Range } from '../history/query.ts';
import { rulesJson } from './rules-view.ts';
import { agentServices } from './services.ts';
import { runJob, select } from './jobs.ts';
import type { ConfigControl } from '../config/control.ts';
import type { Manager } from '../manager/manager.ts';
import type { AlertRecord } from '../manager/state.ts';
import { agentJson, alertJson, historyJson, silenceJson } from './json.ts';
import type {
  Agent, Alert, ContainerLogsResult, ContainersResult, History, JobRequest, JobResult, JobSummary, ProcessSort, Selection, ServicesResult, Silence, TopProcesses, ProcessHistory, ContainerHistory,
} from './types.ts';
import { commandArgs, type CommandName, containerRequest, jobRequest, rejectSelection, selection, silenceRequest, topRequest, processQuery, containerHistoryQuery } from './validate.ts';
import { containerHistoryJson } from './container-history.ts';
import { topFor } from './top-view.ts';
import { processHistoryJson } from './process-history.ts';

type Json = Record<string, any>;
type FetchProgress = (received: number, size: number) => void;

export class LocalClient {
  private readonly manager: Manager;
  private readonly cfg: ConfigControl;

  constructor(manager: Manager, config: ConfigControl) {
    this.manager = manager;
    this.cfg = config;
  }

  async agents(): Promise<Agent[]> {
    return this.manager.state.agents().map(agentJson);
  }

  async command(ref: string, cmd: CommandName, args: Json = {}): Promise<Json> {
    return (await this.manager.command(ref, cmd, commandArgs(cmd, args), 'console')) as Json;
  }

  async containers(ref: string): Promise<ContainersResult> {
    const r = containerRequest('containers', ref, {});
    return (await this.manager.command(r.ref, 'containers', r.args, 'console')) as ContainersResult;
  }

  async containerLogs(ref: string, name: string, lines: number): Promise<ContainerLogsResult> {
    const r = containerRequest('container-logs', ref, { name, lines });
    return (await this.manager.command(r.ref, 'container-logs', r.args, 'console')) as ContainerLogsResult;
  }

  async containerRestart(ref: string, name: string): Promise<Json> {
    const r = containerRequest('container-restart', ref, { name });
    return (await this.manager.command(r.ref, 'container-restart', r.args, 'console')) as Json;
  }

  /** The console is the manager's own operator: an admin, who sees command lines. */
  async top(ref: string, q: { sort: ProcessSort; n: number }): Promise<TopProcesses> {
    return topFor((await this.manager.command(ref, 'top', topRequest(q), 'console')) as TopProcesses, 'admin');
  }

  async alerts(after = 0): Promise<Alert[]> {
    return this.manager.state.alerts(after).map(alertJson);
  }

  async pending(): Promise<Agent[]> {
    return this.manager.state.pending().map(agentJson);
  }

  /** The console is the manager's own terminal: command lines shown, as to an admin. */
  async processHistory(ref: string, q: { at: number } | { from: number; to: number }): Promise<ProcessHistory> {
    const query = processQuery(new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)])), this.manager.now());
    return processHistoryJson(this.manager, this.manager.state.find(ref), query, true);
  }

  async containerHistory(ref: string, q: { since: string; container?: string }): Promise<ContainerHistory> {
    const query = containerHistoryQuery(new URLSearchParams(q), this.manager.now());
    return containerHistoryJson(this.manager.containerHistory, this.manager.state.find(ref), query);
  }

  async history(ref: string, q: Range & { detail?: boolean }): Promise<History> {
    return historyJson(this.manager, this.manager.state.find(ref), q);
  }

  async accept(ref: string | undefined): Promise<Agent[]> {
    return (ref === undefined ? this.manager.acceptAll('console') : [this.manager.accept(ref, 'console')]).map(agentJson);
  }

  async revoke(ref: string): Promise<Agent> {
    return agentJson(this.manager.revoke(ref, 'console'));
  }

  async reject(sel: { agent: string } | { address: string } | { all: true }): Promise<Agent[]> {
    return this.manager.rejectPending(rejectSelection(sel), 'console').map(agentJson);
  }

  async reload(): Promise<Json> {
    return { ...this.cfg.reload('console') };
  }

  async config(): Promise<Json> {
    return this.cfg.show();
  }

  async select(sel: Selection): Promise<Agent[]> {
    return select(this.manager, selection(sel)).map(agentJson);
  }

  async job(body: JobRequest, onResult: (r: JobResult) => void, signal?: AbortSignal): Promise<JobSummary> {
    const job = jobRequest(body);
    return { ...await runJob({
      manager: this.manager, targets: select(this.manager, job), cmd: job.cmd, args: job.args, parallel: job.parallel,
      ...(job.timeout ? { timeoutMs: job.timeout * 1000 } : {}), by: 'console', onResult: (r) => onResult({ ...r }), ...(signal ? { signal } : {}),
    }) };
  }

  async silences(): Promise<Silence[]> {
    return this.manager.silences.active().map(silenceJson);
  }

  async silence(s: { selector: string; for: string; rule?: string; reason?: string }): Promise<Silence> {
    return silenceJson(this.manager.silence(silenceRequest(s), 'console'));
  }

  async unsilence(id: string): Promise<Silence> {
    return silenceJson(this.manager.unsilence(id, 'console'));
  }

  async activeAlerts(): Promise<Alert[]> {
    return this.manager.state.activeAlerts().map(alertJson);
  }

  async rules(ref?: string): Promise<Json[]> {
    return rulesJson(this.manager, ref);
  }

  services(ref: string, failed: boolean): Promise<ServicesResult> {
    return agentServices(this.manager, ref, { failed }, 'console');
  }

  async fetch(ref: string, remotePath: string, localPath: string, progress?: FetchProgress, signal?: AbortSignal): Promise<{ bytes: number; sha256: string; path: string }> {
    let part: PartFile | undefined;
    let size = -1;
    try {
      const r = await this.manager.fetch(ref, remotePath, {
        start(s) {
          size = s;
          part = new PartFile(localPath);
        },
        async write(parts) {
          await part!.write(parts);
          progress?.(part!.bytes, size);
        },
      }, signal, 'console');
      if (!part) throw new HwError('TRANSFER_ABORTED', 'no data arrived');
      await part.commit(r.sha256);
      return { ...r, path: localPath };
    } catch (err) {
      part?.discard();
      throw err;
    }
  }

  async follow(after: number, onAlert: (a: Json) => void, signal: AbortSignal): Promise<void> {
    for (const a of this.manager.state.alerts(after)) onAlert(alertJson(a));
    const fn = (a: AlertRecord) => onAlert(alertJson(a));
    this.manager.state.on('alert', fn);
    await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    this.manager.state.off('alert', fn);
  }
}

/** What the console needs of a serving manager besides its client: names, the table, alerts. */
export function consoleSource(manager: Manager, config: ConfigControl): {
  client: LocalClient; names: () => string[]; agents: () => Json[]; onAlert: (fn: (a: Json) => void) => () => void;
} {
  return {
    client: new LocalClient(manager, config),
    names: () => manager.state.agents(true).map((a) => a.name),
    agents: () => manager.state.agents().map(agentJson),
    onAlert: (fn) => {
      const f = (a: AlertRecord) => fn(alertJson(a));
      manager.state.on('alert', f);
      return () => manager.state.off('alert', f);
    },
  };
}

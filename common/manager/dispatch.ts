// Command dispatch: finds the agent's live link for a command from the console or the API, runs
// it (or streams a file), and records it with its outcome in the audit.

import { COMMAND_TIMEOUT_MS, type AgentLink, type FileSink } from './agent-link.ts';
import { HwError } from '../errors.ts';
import { COMMAND_FEATURES, type CommandName } from '../wire/messages.ts';
import type { Audit } from './audit.ts';
import type { AgentRecord, ManagerState } from './state.ts';

export class Dispatch {
  private readonly state: ManagerState;
  private readonly audit: Audit;
  private readonly links: ReadonlyMap<string, AgentLink>;
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(o: { state: ManagerState; audit: Audit; links: ReadonlyMap<string, AgentLink>; now: () => number; commandTimeoutMs?: number }) {
    this.state = o.state;
    this.audit = o.audit;
    this.links = o.links;
    this.now = o.now;
    this.timeoutMs = o.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
  }

  private linkFor(ref: string): { rec: AgentRecord; link: AgentLink } {
    const rec = this.state.find(ref);
    const link = this.links.get(rec.id);
    if (rec.trust !== 'accepted') throw new HwError('PENDING', `agent ${rec.name} is pending: accept it first (manager accept ${rec.name})`);
    if (!link || !rec.online) {
      throw new HwError('AGENT_OFFLINE', `agent ${rec.name} is offline${rec.lastSeen ? ` (last seen ${new Date(rec.lastSeen).toISOString()})` : ''}`);
    }
    return { rec, link };
  }

  /**
   * Runs a command on an agent and records it with its outcome. `timeoutMs`: this call's own bound
   * (commands to many hosts), else the manager's.
   */
  async command(ref: string, cmd: Exclude<CommandName, 'fetch'>, args: Record<string, unknown>, by: string, timeoutMs?: number): Promise<unknown> {
    const { rec, link } = this.linkFor(ref);
    const need = COMMAND_FEATURES[cmd];
    // Never sent to an agent that would not know it: an older one answers an unknown command
    // with a bare error, or drops the connection on a message it cannot read.
    if (need && !link.features.has(need)) throw new HwError('AGENT_TOO_OLD', `agent ${rec.name} (version ${rec.version}) does not answer "${cmd}": upgrade it`);
    const started = this.now();
    try {
      // An older agent would drop a command it does not know (and the connection with it): refuse here.
      const feature = COMMAND_FEATURES[cmd];
      if (feature && !link.features.has(feature)) {
        throw new HwError('AGENT_TOO_OLD', `agent ${rec.name} (version ${rec.version || 'unknown'}) does not answer "${cmd}": upgrade it`);
      }
      const result = await link.request(cmd, args, timeoutMs ?? this.timeoutMs);
      if (cmd === 'restart') this.state.markRestarting(rec.id);
      this.audit.command(rec, cmd, args, by, started, { ok: true });
      return result;
    } catch (err) {
      this.audit.command(rec, cmd, args, by, started, { ok: false, error: err });
      throw err;
    }
  }

  /** Streams a file from an agent into `sink`; `signal` cancels it on both sides. */
  async fetch(ref: string, path: string, sink: FileSink, signal: AbortSignal | undefined, by: string): Promise<{ bytes: number; sha256: string }> {
    const { rec, link } = this.linkFor(ref);
    const started = this.now();
    try {
      const r = await link.fetch(path, sink, signal);
      this.audit.command(rec, 'fetch', { path }, by, started, { ok: true, bytes: r.bytes, sha256: r.sha256 });
      return r;
    } catch (err) {
      this.audit.command(rec, 'fetch', { path }, by, started, { ok: false, error: err });
      throw err;
    }
  }
}

// Message routing: what an agent's message does once it has said hello. Answers and file data go
// to its link's pending requests; reports and alerts to the state (only from an accepted agent);
// an alert is acknowledged only once it is in the record on disk, echoing its epoch; a numbered
// sample (acked-samples) is taken once and acknowledged when the history has written it.

import { HwError } from '../errors.ts';
import type { SampleProcesses } from '../collect/types.ts';
import type { SampleContainers } from '../wire/container-usage.ts';
import type { AgentMessage, AlertMsg, Report, SamplesLost } from '../wire/messages.ts';
import type { AgentLink } from './agent-link.ts';
import type { SampleAcks } from './sample-acks.ts';
import type { ManagerState } from './state.ts';

/** Alerts per agent shown but not yet on disk, acknowledged by the manager once the disk is back. */
const UNACKED_ALERTS_KEPT = 1000;

export class Router {
  private readonly state: ManagerState;
  private readonly now: () => number;
  private readonly unacked = new Map<string, { epoch: string; seq: number }[]>();
  private readonly acks: SampleAcks;
  private readonly lost: (agentId: string, msg: SamplesLost) => void;
  private readonly processes: ((agentId: string, at: number, p: SampleProcesses) => boolean) | undefined;
  private readonly containers: ((agentId: string, at: number, c: SampleContainers) => boolean) | undefined;

  constructor(o: {
    state: ManagerState; now: () => number; acks: SampleAcks; lost: (agentId: string, msg: SamplesLost) => void;
    /** writes a report's top processes to the process history; false when the disk refused them */
    processes?: (agentId: string, at: number, p: SampleProcesses) => boolean;
    /** writes a report's containers' usage to the container history; false when the disk refused it */
    containers?: (agentId: string, at: number, c: SampleContainers) => boolean;
  }) {
    this.state = o.state;
    this.now = o.now;
    this.acks = o.acks;
    this.lost = o.lost;
    this.processes = o.processes;
    this.containers = o.containers;
  }

  route(link: AgentLink, msg: AgentMessage): void {
    this.state.touch(link.agentId);
    if (link.onMessage(msg)) return;
    const trusted = this.state.agent(link.agentId)?.trust === 'accepted';
    switch (msg.type) {
      case 'report':
        // From a pending agent: not taken nor acknowledged; it keeps them until it is accepted.
        if (trusted) this.report(link, msg);
        return;
      case 'samples-lost':
        if (trusted) this.lost(link.agentId, msg);
        return;
      case 'alert':
        if (!trusted) return; // not acknowledged: the agent keeps it until it is accepted
        this.alert(link, msg);
        return;
      case 'rules-applied':
        this.state.setRulesVersion(link.agentId, msg.version);
        return;
      case 'bye':
        this.state.record({ at: this.now(), event: 'bye', agent: { id: link.agentId }, reason: msg.reason });
        return;
      case 'hello':
        link.peer.fail(new HwError('BAD_MESSAGE', 'hello sent twice'));
        return;
      case 'ping':
      case 'pong':
        return;
      default:
        return;
    }
  }

  private report(link: AgentLink, msg: Report): void {
    const id = link.agentId;
    const seq = link.ackedSamples ? msg.seq : undefined;
    // A live report is sent once; only backfill can repeat one already taken or written (a resend),
    // so only backfill is looked up: the fleet's every-second reports cost no bookkeeping here.
    if (seq !== undefined && msg.backfill && this.acks.receive(id, seq) !== 'new') return;
    // The processes are written before the sample is taken, so before it can be acknowledged; if
    // the disk refuses them the sample is not taken at all and the agent sends it again.
    if (msg.processes && this.processes && !this.processes(id, msg.at, msg.processes) && seq !== undefined) return;
    if (msg.containerUsage && this.containers && !this.containers(id, msg.at, msg.containerUsage) && seq !== undefined) return;
    const r = this.state.report(id, msg.metrics, msg.interfaces, msg.at, !!msg.backfill, msg.mounts, seq);
    if (!msg.backfill) {
      const rec = this.state.agent(id);
      if (rec) {
        if (msg.containers) rec.containers = msg.containers;
        else delete rec.containers;
      }
    }
    if (seq === undefined) return;
    if (r === 'taken') {
      if (msg.backfill) this.acks.taken(id, seq, true);
    }
    else if (r === 'ignored') this.acks.written(id, [seq]); // it can never be kept: not asked for again
    // 'refused': the history is full for this agent now; not acknowledged, so the agent sends it again
  }

  private alert(link: AgentLink, msg: AlertMsg): void {
    this.state.alert(link.agentId, msg, 'tcp');
    if (this.state.isRecorded(link.agentId, msg.epoch, msg.seq)) {
      link.peer.post({ type: 'ack', ...(msg.epoch ? { epoch: msg.epoch } : {}), seq: msg.seq });
      return;
    }
    // Shown but not on disk (the disk is failing): no ack, so the agent keeps it; we ack it
    // ourselves once the disk is back (ackRecorded), or at its next resend.
    let list = this.unacked.get(link.agentId);
    if (!list) this.unacked.set(link.agentId, (list = []));
    if (!list.some((u) => u.seq === msg.seq && u.epoch === (msg.epoch ?? ''))) list.push({ epoch: msg.epoch ?? '', seq: msg.seq });
    if (list.length > UNACKED_ALERTS_KEPT) list.shift();
  }

  /** The disk took what was held: acknowledge the alerts that are now on it. */
  ackRecorded(links: ReadonlyMap<string, AgentLink>): void {
    for (const [agentId, list] of this.unacked) {
      const link = links.get(agentId);
      const still = list.filter((u) => {
        if (!this.state.isRecorded(agentId, u.epoch, u.seq)) return true;
        link?.peer.post({ type: 'ack', ...(u.epoch ? { epoch: u.epoch } : {}), seq: u.seq });
        return false;
      });
      if (still.length) this.unacked.set(agentId, still);
      else this.unacked.delete(agentId);
    }
  }
}

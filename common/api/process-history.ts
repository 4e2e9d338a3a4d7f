// GET /api/agents/:agent/processes: the history of who, one minute (`at`) or a range, read from
// the agent's process file; command lines only for admins.

import type { Manager } from '../manager/manager.ts';
import type { AgentRecord } from '../manager/state.ts';
import type { ProcessRecord } from '../history/process-log.ts';
import type { ProcessHistory, ProcessMinute } from './types.ts';
import type { ProcessQuery } from './validate.ts';

export function processHistoryJson(m: Manager, rec: AgentRecord, q: ProcessQuery, admin: boolean): ProcessHistory {
  const shown = (r: ProcessRecord): ProcessMinute => (admin ? r : {
    at: r.at, byCpu: r.byCpu.map((p) => ({ ...p, command: null })), byMem: r.byMem.map((p) => ({ ...p, command: null })),
  });
  const base = { agent: rec.name, agentId: rec.id, commands: admin };
  if ('at' in q) {
    const r = m.processHistory.near(rec.id, q.at);
    return { ...base, asked: q.at, minutes: r ? [shown(r)] : [], truncated: false };
  }
  const { records, truncated } = m.processHistory.range(rec.id, q.from, q.to);
  return { ...base, from: q.from, to: q.to, minutes: records.map(shown), truncated };
}

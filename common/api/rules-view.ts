// `manager rules [<agent>]`: each agent's effective rules, whether it runs them (the version it
// reports), and what fires now, as the console, the CLI and the API show it.

import type { Rule } from '../rules/rule.ts';
import type { Manager } from '../manager/manager.ts';
import type { AgentRecord } from '../manager/state.ts';
import { alertJson } from './json.ts';
import type { AgentRules } from './types.ts';

export function rulesJson(manager: Manager, ref?: string): AgentRules[] {
  const agents = ref === undefined ? manager.state.agents() : [manager.state.find(ref)];
  const active = manager.state.activeAlerts();
  const cfg = manager.rules.config;
  return agents.map((rec: AgentRecord) => {
    const set = manager.rules.forAgent(rec);
    const firing = active.filter((a) => a.agentId === rec.id).map(alertJson);
    const ruleRows = (set?.rules ?? []).map((r: Rule) => ({ ...r, firing: firing.filter((a) => a.rule === r.name) }));
    return {
      agent: rec.name, agentId: rec.id, online: rec.online,
      /** what the manager sends it; null: the manager sets no rules, the agent's own flags apply */
      version: set ? set.version : null,
      /** what the agent says it runs (null: too old to run rules) */
      running: rec.rulesVersion,
      inSync: rec.rulesVersion === (set ? set.version : ''),
      rules: set ? ruleRows : null,
      /** rules of its set not sent to it: it is too old for them (its hello did not name the feature) */
      notSent: manager.rules.notSent(rec),
      agentDown: { after: cfg?.agentDownAfter ?? 3, firing: firing.filter((a) => a.rule === 'agent_down') },
      // firing alerts of rules this set no longer has (the agent's own cpu rule, say)
      other: firing.filter((a) => a.rule !== 'agent_down' && !(set?.rules ?? []).some((r) => r.name === a.rule)),
    };
  });
}

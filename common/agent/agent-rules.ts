// The rules the agent runs: the manager's (sent in a `rules` message after the welcome and after a
// reload), kept in the state folder so that a restart while the manager is away still judges by
// them, or the agent's own --cpu-threshold/--cpu-for when its manager sets none.

import { join } from 'node:path';
import { readState, writeDurable } from '../fs/durable.ts';
import { isHwError } from '../errors.ts';
import type { Rule } from '../rules/rule.ts';
import { parseManagerMessage, type RulesMsg } from '../wire/messages.ts';

export const RULES_FILE = 'rules.json';

export class AgentRules {
  private readonly path: string | undefined;
  private readonly log: (line: string) => void;
  /** '' while the agent's own flags apply */
  version = '';
  rules: Rule[] | null = null;

  constructor(o: { stateDir?: string; log: (line: string) => void }) {
    this.path = o.stateDir ? join(o.stateDir, RULES_FILE) : undefined;
    this.log = o.log;
    if (!this.path) return;
    try {
      const saved = readState(this.path, (t) => parseManagerMessage(t) as RulesMsg, 'it is a copy of the manager\'s rules: remove it, the manager sends them again');
      if (saved?.type === 'rules' && saved.rules) {
        this.rules = saved.rules;
        this.version = saved.version;
      }
    } catch (err) {
      // Only a copy: judged by the flags until the manager sends its rules again.
      this.log(`${isHwError(err) ? err.message : String(err)}; using the flags' rules until the manager sends its own`);
    }
  }

  /** Keeps the manager's rules (null: back to the flags); false when nothing changed. */
  set(msg: RulesMsg): boolean {
    const version = msg.rules ? msg.version : '';
    if (version === this.version && JSON.stringify(msg.rules) === JSON.stringify(this.rules)) return false;
    this.rules = msg.rules;
    this.version = version;
    if (this.path) {
      try {
        writeDurable(this.path, JSON.stringify({ type: 'rules', version, rules: msg.rules }));
      } catch (err) {
        this.log(`cannot keep the manager's rules in ${this.path} (${(err as Error).message}): they apply until the agent restarts`);
      }
    }
    return true;
  }
}

// What the router tests share: a manager state (its event log in a temp folder) that knows one agent,
// id a1, named web1, with the given trust.

import { join } from 'node:path';
import { EventLog } from '../../common/manager/event-log.ts';
import { ManagerState } from '../../common/manager/state.ts';
import { tempDir } from '../harness.helper.ts';

export function oneAgentState(trust: 'accepted' | 'pending'): { state: ManagerState; log: EventLog } {
  const log = new EventLog(join(tempDir(), 'events.jsonl'));
  log.open();
  const state = new ManagerState({ log });
  state.agentUp({
    id: 'a1', name: 'web1', hostname: 'web1', address: '127.0.0.1', platform: 'linux', arch: 'x64', version: '0', interval: 1,
    restartAllowed: false, filesEnabled: true, trust, fingerprint: 'AA',
  });
  return { state, log };
}

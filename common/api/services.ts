// The host's services, asked from its agent and checked: what GET /api/agents/:agent/services and
// the console's `services` both answer.
import type { Manager } from '../manager/manager.ts';
import { checkServicesResult } from '../wire/services-result.ts';
import type { ServicesResult } from './types.ts';

export async function agentServices(m: Manager, ref: string, args: { failed: boolean }, by: string): Promise<ServicesResult> {
  return checkServicesResult(await m.command(ref, 'services', args, by));
}

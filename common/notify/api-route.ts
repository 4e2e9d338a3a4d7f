// The control API's /api/notify routes: GET the destinations' status, POST test to send a test
// alert everywhere. Without any --alertmanager or --webhook both say so with NOT_FOUND.

import { HwError } from '../errors.ts';
import type { Notifier, NotifyStatus } from './notifier.ts';

/** `view.redact`: a viewer's GET, destinations as scheme://host:port only (see Notifier.status). */
export function notifyRoute(notifier: Notifier | undefined, rest: string[], method: string, view: { redact?: boolean } = {}): NotifyStatus | { id: string; destinations: number } {
  const known = (rest.length === 0 && method === 'GET') || (rest.length === 1 && rest[0] === 'test' && method === 'POST');
  if (!known) throw new HwError('NOT_FOUND', `no such endpoint ${method} /api/notify/${rest.join('/')}`);
  if (!notifier) throw new HwError('NOT_FOUND', 'no notification destination: start the manager with --alertmanager <url> or --webhook <url>');
  return rest.length === 0 ? notifier.status(view) : notifier.test();
}

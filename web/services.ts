// The host page's "Failed services" section: the failed systemd units or Windows services, asked
// from the agent through GET /api/agents/:agent/services?failed=1 when the page opens (and by its
// button: each ask runs systemctl or PowerShell on the host, so it is not polled). Built with
// textContent only: unit names and descriptions come from the agent.
import { agentPath, api, ApiError } from './api.ts';
import { h, replace } from './dom.ts';
import type { ServiceRow, ServicesResult } from '../common/api/types.ts';

export function failedServices(agentId: string): { box: HTMLElement; load: () => Promise<void> } {
  const body = h('div', { class: 'table-wrap', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Asking the agent…'));
  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    try {
      const r = await api<ServicesResult>(`${agentPath(agentId)}/services?failed=1`);
      if (mine !== seq) return;
      const counts = `${r.failedCount} failed of ${r.total} services (${r.source})${r.omitted ? `; ${r.omitted} more not listed` : ''}.`;
      replace(body, r.services.length
        ? [h('table', { 'data-table': 'services' }, h('caption', { class: 'sr-only' }, 'Failed services'),
          h('thead', null, h('tr', null, ['Unit', 'Active', 'Sub'].map((c) => h('th', { scope: 'col' }, c)))),
          // The description under the name, not in a fourth column: a phone has room for three.
          h('tbody', null, r.services.map((s) => h('tr', { 'data-service': s.name },
            h('td', { class: 'path' }, h('div', null, s.name), s.description && s.description !== s.name ? h('div', { class: 'muted small' }, s.description) : null,
              s.result || s.since ? h('div', { class: 'muted small', 'data-why': '' }, why(s)) : null),
            h('td', null, h('span', { class: 'badge', 'data-state': 'down' }, s.active)), h('td', null, s.sub))))),
        h('p', { class: 'muted small' }, counts)]
        : h('p', { class: 'muted' }, `No failed services: ${counts}`));
    } catch (err) {
      if (mine !== seq) return;
      const e = err instanceof ApiError ? err : new ApiError('INTERNAL', String(err), 0);
      replace(body, h('p', { class: 'muted', 'data-error': e.code }, `Services not read: ${e.message} [${e.code}]`));
    }
  };
  const refresh = h('button', { type: 'button', class: 'small', onclick: () => void load() }, 'Refresh services');
  return { box: h('div', null, body, h('p', null, refresh)), load };
}

/** Why a failed unit failed, from the agent's systemctl show: "exit-code, status 1, since ...". */
function why(s: ServiceRow): string {
  return [s.result, s.exitStatus !== undefined ? `status ${s.exitStatus}` : '', s.since ? `since ${s.since}` : ''].filter(Boolean).join(', ');
}

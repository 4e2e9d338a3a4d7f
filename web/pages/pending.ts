// Agents waiting to be accepted, with their key fingerprints to compare with the agent's output.

import { agentPath, api, ApiError } from '../api.ts';
import { typedConfirm } from '../confirm.ts';
import { h, replace } from '../dom.ts';
import type { PageContext } from '../page.ts';
import { store } from '../store.ts';

export function pendingPage(main: HTMLElement, ctx: PageContext): () => void {
  const admin = ctx.me.role === 'admin';
  const box = h('div', { class: 'table-wrap' });
  const msg = h('div', { 'aria-live': 'polite' });

  async function accept(id: string, name: string): Promise<void> {
    try {
      await api(`${agentPath(id)}/accept`, { method: 'POST' });
      replace(msg, h('p', null, `Accepted ${name}.`));
      await store.reload();
    } catch (err) {
      const e = err as ApiError;
      replace(msg, h('p', { class: 'error', role: 'alert' }, h('code', null, e.code), ' ', e.message));
    }
  }

  async function reject(id: string, name: string): Promise<void> {
    try {
      await api('/api/pending/reject', { method: 'POST', body: { agent: `id:${id}` } });
      replace(msg, h('p', null, `Rejected ${name}: its key is refused from now on.`));
      await store.reload();
    } catch (err) {
      const e = err as ApiError;
      replace(msg, h('p', { class: 'error', role: 'alert' }, h('code', null, e.code), ' ', e.message));
    }
  }

  // Above the table, not in the row: a form in a cell would widen the table past the screen.
  const confirmBox = h('div');

  function confirmReject(id: string, name: string): void {
    replace(msg);
    replace(confirmBox, typedConfirm({
      action: 'Reject', name,
      explain: `Reject ${name}? Its key is forgotten and refused from now on; to let this host in later it needs a new key.`,
      run: async () => {
        replace(confirmBox);
        await reject(id, name);
      },
      cancel: () => replace(confirmBox),
    }));
  }

  function render(): void {
    const list = [...store.agents.values()].filter((a) => a.trust === 'pending').sort((a, b) => a.name.localeCompare(b.name));
    replace(box, list.length ? h('table', { class: 'pending' }, h('caption', { class: 'sr-only' }, 'Pending agents'),
      h('thead', null, h('tr', null, ['Name', 'Address', 'State', 'Id', 'Key fingerprint (SHA-256)', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, list.map((a) => h('tr', null,
        h('td', null, h('a', { href: `#/host/${encodeURIComponent(a.id)}` }, a.name)), h('td', { 'data-label': 'Address' }, a.address),
        h('td', { 'data-label': 'State' }, a.online ? 'online' : 'offline'), h('td', { 'data-label': 'Id' }, h('code', null, a.id.slice(0, 8))),
        h('td', { 'data-label': 'Key fingerprint' }, h('code', { class: 'fp' }, a.fingerprint)),
        actions(a.id, a.name)))))
      : h('p', { class: 'muted' }, 'No agent is waiting to be accepted.'));
  }

  function actions(id: string, name: string): HTMLElement {
    const off = admin ? {} : { disabled: true, title: 'viewers run nothing' };
    const cell = h('td', { class: 'do' });
    cell.append(h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => void accept(id, name), 'aria-label': `Accept ${name}`, ...off }, 'Accept'),
      h('button', { type: 'button', class: 'danger', onclick: () => confirmReject(id, name), 'aria-label': `Reject ${name}`, ...off }, 'Reject'),
    ));
    return cell;
  }

  const unsub = store.subscribe({ agents: render, reset: render });
  replace(main, h('div', { class: 'page-head' }, h('h1', null, 'Pending agents')),
    h('p', { class: 'muted' }, 'Compare each fingerprint with the one the agent printed at its start before you accept it.'), msg, confirmBox, box);
  render();
  // Pending agents report nothing: their list is asked again now and then.
  const timer = window.setInterval(() => !document.hidden && void store.reload().catch(() => {}), 10_000);
  return () => {
    unsub();
    clearInterval(timer);
  };
}

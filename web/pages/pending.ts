// Agents waiting to be accepted, with their key fingerprints to compare with the agent's output.

import { agentPath, api, ApiError } from '../api.ts';
import { h, replace } from '../dom.ts';
import type { PageContext } from '../main.ts';
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

  function render(): void {
    const list = [...store.agents.values()].filter((a) => a.trust === 'pending').sort((a, b) => a.name.localeCompare(b.name));
    replace(box, list.length ? h('table', null, h('caption', { class: 'sr-only' }, 'Pending agents'),
      h('thead', null, h('tr', null, ['Name', 'Address', 'State', 'Id', 'Key fingerprint (SHA-256)', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, list.map((a) => h('tr', null,
        h('td', null, h('a', { href: `#/host/${encodeURIComponent(a.id)}` }, a.name)), h('td', null, a.address), h('td', null, a.online ? 'online' : 'offline'),
        h('td', null, h('code', null, a.id.slice(0, 8))), h('td', null, h('code', { class: 'fp' }, a.fingerprint)),
        h('td', null, h('button', { type: 'button', onclick: () => void accept(a.id, a.name), 'aria-label': `Accept ${a.name}`, ...(admin ? {} : { disabled: true, title: 'viewers run nothing' }) }, 'Accept'))))))
      : h('p', { class: 'muted' }, 'No agent is waiting to be accepted.'));
  }

  const unsub = store.subscribe({ agents: render, reset: render });
  replace(main, h('div', { class: 'page-head' }, h('h1', null, 'Pending agents')),
    h('p', { class: 'muted' }, 'Compare each fingerprint with the one the agent printed at its start before you accept it.'), msg, box);
  render();
  // Pending agents report nothing: their list is asked again now and then.
  const timer = window.setInterval(() => !document.hidden && void store.reload().catch(() => {}), 10_000);
  return () => {
    unsub();
    clearInterval(timer);
  };
}

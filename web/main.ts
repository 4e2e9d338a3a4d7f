// The dashboard's entry: who am I, the header, and a hash router over the pages. Every page gets
// its element and returns a clean-up function for when the user leaves it.

import { api, setSession, type Me } from './api.ts';
import { h, replace } from './dom.ts';
import { alertsPage } from './pages/alerts.ts';
import { fleetPage } from './pages/fleet.ts';
import { hostPage } from './pages/host.ts';
import { pendingPage } from './pages/pending.ts';
import { signInPage } from './pages/sign-in.ts';
import type { PageContext } from './page.ts';
import { store } from './store.ts';
import { applyTheme, nextTheme, theme } from './theme.ts';

type Page = (main: HTMLElement, ctx: PageContext, arg: string) => (() => void) | void;

let me: Me | null = null;
let cleanup: (() => void) | void;
/** the store's first load, shared by every render that happens while it runs */
let starting: Promise<void> | undefined;
/** a render that finds a newer one started after its awaits stops there */
let renderSeq = 0;

const main = document.getElementById('main')!;
const top = document.getElementById('top')!;

function route(): { page: Page | 'sign-in'; arg: string; name: string } {
  const hash = location.hash.replace(/^#\/?/, '');
  const [head, ...rest] = hash.split('/');
  const arg = decodeURIComponent(rest.join('/'));
  if (head?.startsWith('sign-in')) return { page: 'sign-in', arg: hash, name: 'sign-in' };
  if (head === 'host' && arg) return { page: hostPage, arg, name: 'host' };
  if (head === 'alerts') return { page: alertsPage, arg, name: 'alerts' };
  if (head === 'pending') return { page: pendingPage, arg, name: 'pending' };
  return { page: fleetPage, arg, name: 'fleet' };
}

function header(current: string): void {
  if (!me) {
    replace(top, h('div', { class: 'bar' }, h('span', { class: 'brand' }, 'hostwatch'), h('span', { class: 'spacer' }), themeButton()));
    return;
  }
  const link = (href: string, text: string, name: string) => h('a', { href, ...(current === name ? { 'aria-current': 'page' } : {}) }, text);
  const pending = [...store.agents.values()].filter((a) => a.trust === 'pending').length;
  replace(top, h('div', { class: 'bar' },
    h('a', { class: 'brand', href: '#/' }, 'hostwatch'),
    h('nav', { 'aria-label': 'Pages' }, link('#/', 'Fleet', 'fleet'), link('#/alerts', 'Alerts', 'alerts'), link('#/pending', pending ? `Pending (${pending})` : 'Pending', 'pending')),
    h('span', { class: 'spacer' }),
    h('span', { class: 'live', 'data-live': store.live ? 'yes' : 'no', title: store.live ? 'live updates' : 'reconnecting' }, store.live ? 'live' : 'offline'),
    h('span', { class: 'who' }, `${me.user} (${me.role})`),
    themeButton(),
    h('button', { type: 'button', class: 'plain', onclick: () => void signOut() }, 'Sign out'),
  ));
}

function themeButton(): HTMLButtonElement {
  const label = () => `Theme: ${theme()}`;
  const b = h('button', { type: 'button', class: 'plain', title: 'auto follows the system' }, label());
  b.addEventListener('click', () => {
    nextTheme();
    b.textContent = label();
  });
  return b;
}

async function signOut(): Promise<void> {
  await api('/api/web/sign-out', { method: 'POST' }).catch(() => {});
  signedOut();
}

function signedOut(): void {
  me = null;
  setSession(null);
  store.stop();
  starting = undefined;
  location.hash = '#/sign-in';
}

async function render(): Promise<void> {
  const seq = ++renderSeq;
  const r = route();
  cleanup?.();
  cleanup = undefined;
  if (!me) {
    try {
      me = await api<Me>('/api/web/me');
      setSession(me, signedOut);
    } catch {
      me = null;
    }
    if (seq !== renderSeq) return;
  }
  if (!me || r.page === 'sign-in') {
    if (me && r.page === 'sign-in') {
      location.hash = '#/';
      return;
    }
    header('sign-in');
    cleanup = signInPage(main, r.arg, (who) => {
      me = who;
      setSession(who, signedOut);
      // A hash change renders; already on the fleet's address, nothing would.
      if (location.hash === '#/' || location.hash === '') void render();
      else location.hash = '#/';
    });
    return;
  }
  // Pages read the store: none is drawn before its first load is in.
  starting ??= store.start();
  try {
    await starting;
  } catch (err) {
    starting = undefined;
    if (seq === renderSeq) replace(main, h('p', { class: 'error', role: 'alert' }, `Cannot load the fleet: ${(err as Error).message}`));
    return;
  }
  if (seq !== renderSeq) return;
  header(r.name);
  main.dataset.page = r.name;
  cleanup = (r.page as Page)(main, { me }, r.arg);
}

store.subscribe({ status: () => me && header(route().name), agents: () => updatePendingLink() });

let pendingShown = -1;
function updatePendingLink(): void {
  const n = [...store.agents.values()].filter((a) => a.trust === 'pending').length;
  if (n !== pendingShown) {
    pendingShown = n;
    if (me) header(route().name);
  }
}

applyTheme();
window.addEventListener('hashchange', () => void render());
void render();

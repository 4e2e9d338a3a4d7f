// Sign-in: a user name and a password, refused with the manager's reason (wrong, rate-limited);
// or a one-time link (`manager login-link`), used up only by the click on its button.

import { api, ApiError, type Me } from '../api.ts';
import { h, replace } from '../dom.ts';

export function signInPage(main: HTMLElement, hash: string, done: (me: Me) => void): void {
  const token = /[?&]token=([^&]+)/.exec(hash)?.[1];
  if (token) {
    // Out of the address bar and the history at once: the token is spent, or about to be.
    history.replaceState(null, '', '#/sign-in');
    linkPage(main, decodeURIComponent(token), done);
    return;
  }
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const msg = h('p', { class: 'error', role: 'alert', 'aria-live': 'assertive' });
  if (hash.includes('link=used')) msg.textContent = 'That sign-in link was used already or has expired: ask for a new one with `manager login-link`.';
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'card sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in to hostwatch'),
    h('label', { for: 'username' }, 'Username'), user,
    h('label', { for: 'password' }, 'Password'), pass,
    button, msg,
    h('p', { class: 'muted small' }, 'Users are added on the manager\'s host: manager user add <name> --role admin|viewer'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    msg.textContent = '';
    try {
      const me = await api<Me>('/api/web/sign-in', { method: 'POST', body: { username: user.value, password: pass.value } });
      done(me);
    } catch (err) {
      const e = err as ApiError;
      msg.textContent = e.code === 'BAD_CREDENTIALS' ? `Wrong user name or password [${e.code}]` : `${e.message} [${e.code}]`;
      pass.select();
    } finally {
      button.disabled = false;
    }
  });
  replace(main, form);
  main.dataset.page = 'sign-in';
  user.focus();
}

function linkPage(main: HTMLElement, token: string, done: (me: Me) => void): void {
  const msg = h('p', { class: 'error', role: 'alert', 'aria-live': 'assertive' });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'card sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in to hostwatch'),
    h('p', {}, 'This one-time link signs this browser in. It works once, for ten minutes.'),
    button, msg,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    msg.textContent = '';
    try {
      done(await api<Me>('/api/web/sign-in-link', { method: 'POST', body: { token } }));
    } catch (err) {
      const e = err as ApiError;
      msg.textContent = `${e.message} [${e.code}]`;
      // Spent or expired: the password form is the way on (the address is #/sign-in already).
      const other = h('a', { href: '#/sign-in' }, 'Sign in with a user name and password');
      other.addEventListener('click', (c) => {
        c.preventDefault();
        signInPage(main, '', done);
      });
      form.appendChild(h('p', {}, other));
    }
  });
  replace(main, form);
  main.dataset.page = 'sign-in';
  button.focus();
}

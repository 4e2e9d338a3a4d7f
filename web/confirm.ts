// A dangerous action (Restart, Revoke) runs only after the host's name is typed: the confirm
// button stays disabled until it matches.

import { h } from './dom.ts';

export function typedConfirm(opts: { action: string; name: string; explain: string; run: () => Promise<void>; cancel: () => void }): HTMLElement {
  const id = `confirm-${opts.action.toLowerCase()}`;
  const input = h('input', { id, autocomplete: 'off', spellcheck: 'false' });
  const go = h('button', { type: 'submit', class: 'danger', disabled: true }, `Confirm ${opts.action.toLowerCase()}`);
  input.addEventListener('input', () => (go.disabled = input.value !== opts.name));
  const form = h('form', { class: 'confirm', role: 'group', 'aria-labelledby': `${id}-title` },
    h('p', { id: `${id}-title` }, opts.explain),
    h('label', { for: id }, `Type the host's name (${opts.name}) to confirm`), input,
    h('div', { class: 'row' }, go, h('button', { type: 'button', class: 'plain', onclick: () => opts.cancel() }, 'Cancel')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (input.value !== opts.name) return;
    go.disabled = true;
    void opts.run();
  });
  form.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') opts.cancel();
  });
  queueMicrotask(() => input.focus());
  return form;
}

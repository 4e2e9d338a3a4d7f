// The manager's last rollout as a compact panel: the version, where it stands (hosts done, failed,
// updating, waiting), the batch size, who started (and resumed) it and when, where a manager restart
// cut it short with the command that goes on, and the hosts that failed with why.

import { h, replace } from './dom.ts';
import { ago, count } from './format.ts';
import type { RolloutStatus } from './types.ts';

/** Failed hosts named in the panel; the rest are counted (`manager upgrade status` lists them all). */
const FAILED_SHOWN = 5;

export function rolloutCounts(s: RolloutStatus): { done: number; failed: number; updating: number; waiting: number } {
  const c = { done: 0, failed: 0, updating: 0, waiting: 0 };
  for (const x of s.hosts) {
    if (x.step === 'done' || x.step === 'skipped') c.done++;
    else if (x.step === 'failed') c.failed++;
    else if (x.step === 'waiting') c.waiting++;
    else c.updating++;
  }
  return c;
}

/** Fills `box` with the rollout, or empties it when there was none. */
export function drawRollout(box: HTMLElement, s: RolloutStatus | null): void {
  if (!s?.hosts) {
    replace(box);
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const c = rolloutCounts(s);
  const total = s.hosts.length;
  const failed = s.hosts.filter((x) => x.step === 'failed');
  const when = new Date(s.finishedAt ?? s.startedAt).toISOString();
  replace(box,
    h('h2', { id: 'rollout-head' }, `Upgrade to ${s.version}`, ' ', h('span', { class: 'badge', 'data-rollout': s.state }, s.state)),
    h('progress', { max: total || 1, value: c.done + c.failed, 'aria-label': `${c.done + c.failed} of ${total} hosts finished` }),
    h('p', { class: 'rollout-counts' },
      h('span', { 'data-kind': 'done' }, h('b', null, count(c.done)), ' done'),
      h('span', { 'data-kind': 'failed' }, h('b', null, count(c.failed)), ' failed'),
      h('span', { 'data-kind': 'updating' }, h('b', null, count(c.updating)), ' updating'),
      h('span', { 'data-kind': 'waiting' }, h('b', null, count(c.waiting)), ' waiting')),
    h('p', { class: 'muted small' }, `${count(total)} host${total === 1 ? '' : 's'} in batches of ${count(s.batchSize)} · started by ${s.by} ${ago(new Date(s.startedAt).toISOString())}`,
      s.resumedBy ? `, resumed by ${s.resumedBy}${s.resumedAt ? ` ${ago(new Date(s.resumedAt).toISOString())}` : ''}` : '',
      s.finishedAt ? `, ended ${ago(when)}` : '', ` · ${s.platform}-${s.arch} · sha256 ${s.sha256.slice(0, 12)}`),
    // Cut short by a manager restart: where it stopped, and the one command that goes on.
    s.state === 'interrupted' ? h('p', { class: 'rollout-interrupted' }, `Interrupted in batch ${s.batch ?? '?'} of ${s.batches ?? '?'} by a manager restart${typeof s.interruptedAt === 'number' ? ` ${ago(new Date(s.interruptedAt).toISOString())}` : ''}: `,
      h('code', null, 'manager upgrade resume'), ' goes on with the hosts not yet done.') : null,
    failed.length ? h('ul', { class: 'rollout-failed' }, failed.slice(0, FAILED_SHOWN).map((x) => h('li', null,
      h('a', { href: `#/host/${encodeURIComponent(x.agentId)}` }, x.agent), ` (from ${x.from || 'unknown'}): `,
      h('code', null, x.error?.code ?? 'failed'), x.error?.message ? ` ${x.error.message}` : '')),
    failed.length > FAILED_SHOWN ? h('li', { class: 'muted' }, `and ${count(failed.length - FAILED_SHOWN)} more: \`manager upgrade status\``) : null) : null,
  );
}

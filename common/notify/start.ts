// Builds the notifier from the serve flags (`--alertmanager`, `--webhook`, `--webhook-format`,
// `--webhook-secret-file`) and starts it; nothing when no destination is given.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import type { ManagerState } from '../manager/state.ts';
import { loadOrCreateToken } from '../manager/token.ts';
import { WEBHOOK_FORMATS, type WebhookFormat } from './formats.ts';
import { checkUrl } from './http-post.ts';
import { Notifier, type NotifierOptions, type WebhookTarget } from './notifier.ts';
import { OUTBOX_FILE, Outbox } from './outbox.ts';

/** The webhook signing key's file in the data folder, made on first use. */
export const WEBHOOK_SECRET_FILE = 'webhook-secret';

export interface NotifyConfig {
  alertmanagers: string[];
  webhooks: string[];
  /** one format for every webhook, or one per --webhook in order */
  webhookFormats: string[];
  /** default: <data-dir>/webhook-secret, made on first use */
  webhookSecretFile?: string;
  /** tests and tuning */
  tuning?: Pick<NotifierOptions, 'resendMs' | 'resolvedResendMs' | 'timeoutMs' | 'backoff'>;
}

/** Checks the flags; throws BAD_FLAG with what to fix. */
export function webhookTargets(urls: string[], formats: string[]): WebhookTarget[] {
  for (const f of formats) {
    if (!WEBHOOK_FORMATS.includes(f as WebhookFormat)) throw new HwError('BAD_FLAG', `--webhook-format ${f}: use one of ${WEBHOOK_FORMATS.join(', ')}`);
  }
  if (formats.length > 1 && formats.length !== urls.length) {
    throw new HwError('BAD_FLAG', `${formats.length} --webhook-format for ${urls.length} --webhook: give one format for all, or one per --webhook in the same order`);
  }
  return urls.map((u, i) => ({ url: checkUrl(u, '--webhook'), format: (formats.length > 1 ? formats[i] : formats[0] ?? 'json') as WebhookFormat }));
}

/** The destination flags checked as the notifier will check them, so `config check` and a start with a bad value fail alike. */
export function checkNotifyConfig(cfg: NotifyConfig): NotifyConfig {
  cfg.alertmanagers.forEach((u) => checkUrl(u, '--alertmanager'));
  webhookTargets(cfg.webhooks, cfg.webhookFormats);
  return cfg;
}

function readSecret(path: string): string {
  let s: string;
  try {
    s = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new HwError('BAD_FLAG', `--webhook-secret-file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (s.length < 16) throw new HwError('BAD_FLAG', `--webhook-secret-file ${path}: the secret is ${s.length} characters; use at least 16 (e.g. openssl rand -hex 32)`);
  return s;
}

export function startNotifier(state: ManagerState, dataDir: string, cfg: NotifyConfig, notice: (line: string) => void): Notifier | undefined {
  const alertmanagers = cfg.alertmanagers.map((u) => checkUrl(u, '--alertmanager'));
  const webhooks = webhookTargets(cfg.webhooks, cfg.webhookFormats);
  if (!alertmanagers.length && !webhooks.length) {
    forgetMark(dataDir, notice);
    return undefined;
  }
  const secret = webhooks.length ? (cfg.webhookSecretFile ? readSecret(cfg.webhookSecretFile) : loadOrCreateToken(dataDir, WEBHOOK_SECRET_FILE)) : '';
  const n = new Notifier({ state, dataDir, alertmanagers, webhooks, secret, notice, ...cfg.tuning });
  n.start();
  return n;
}

/**
 * Without destinations the alerts recorded are queued nowhere: an outbox left by an earlier run
 * forgets its mark, so that destinations added later are not sent this run's alerts as missed.
 */
function forgetMark(dataDir: string, notice: (line: string) => void): void {
  if (!existsSync(join(dataDir, OUTBOX_FILE))) return;
  try {
    const outbox = new Outbox({ dir: dataDir, onStorage: (err) => err && notice(`notify: ${err}`) });
    outbox.forgetMark();
    outbox.close();
  } catch (err) {
    notice(`notify: ${(err as Error).message}`);
  }
}

export function webhookSecretPath(dataDir: string, cfg: NotifyConfig): string {
  return cfg.webhookSecretFile ?? join(dataDir, WEBHOOK_SECRET_FILE);
}

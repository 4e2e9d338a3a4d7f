// The effective settings of a serving manager: command-line flags over the config file over the
// flags' defaults, checked by the same code that turns flags into settings, so that a bad value in
// the file is reported at its line like a bad flag would be.

import { HwError, isHwError } from '../errors.ts';
import { configError, readConfigFile, type ConfigFile, type ConfigProblem, type SectionReader, type SectionsFinish } from './file.ts';
import type { ConfigKey } from './keys.ts';
import { maskUrl, redactUrl } from '../net/redact.ts';

export interface Effective<T> {
  /** flag values by cac prop, as the serve action reads them */
  opts: Record<string, unknown>;
  /** what `build` made of them */
  settings: T;
  sections: Record<string, unknown>;
  file?: ConfigFile;
}

export interface ConfigSpec<T> {
  keys: ConfigKey[];
  readers: Record<string, SectionReader>;
  finish?: SectionsFinish;
  /** turns flag values into settings; throws a coded error naming the flag (`--port: ...`) */
  build: (opts: Record<string, unknown>) => T;
}

export function mergeFlags(cli: Record<string, unknown>, given: Set<string>, file: ConfigFile | undefined, keys: ConfigKey[]): Record<string, unknown> {
  const opts: Record<string, unknown> = { ...cli };
  for (const k of keys) {
    if (!given.has(k.prop) && file && k.prop in file.flags) opts[k.prop] = file.flags[k.prop];
  }
  return opts;
}

/**
 * Reads `path` and builds the settings. Throws BAD_CONFIG listing every problem, each at its line:
 * the file's own, then a value `build` refuses (reported at that key when the file set it).
 */
export function loadEffective<T>(spec: ConfigSpec<T>, path: string | undefined, cli: Record<string, unknown>, given: Set<string>): Effective<T> {
  const file = path === undefined ? undefined : readConfigFile(path, spec.keys, spec.readers, spec.finish);
  if (file && file.problems.length) throw configError(file.path, file.problems);
  const opts = mergeFlags(cli, given, file, spec.keys);
  let settings: T;
  try {
    settings = spec.build(opts);
  } catch (err) {
    if (!file || !isHwError(err) || err.code === 'INTERNAL') throw err;
    const problem = problemAtFlag(err, file, spec.keys, given);
    if (!problem) throw err;
    throw configError(file.path, [problem]);
  }
  return { opts, settings, sections: file?.sections ?? {}, ...(file ? { file } : {}) };
}

/** A refused value that came from the file, placed at its key. */
function problemAtFlag(err: HwError, file: ConfigFile, keys: ConfigKey[], given: Set<string>): ConfigProblem | undefined {
  const m = /--([a-z0-9-]+)/.exec(err.message);
  const key = m ? keys.find((k) => k.key === m[1]) : undefined;
  if (!key || given.has(key.prop) || !file.positions[key.prop]) return undefined;
  return { ...file.positions[key.prop]!, message: err.message.replace(`--${key.key}`, key.key) };
}

/** `config check`: every problem of the file, [] when fine. */
export function checkConfig<T>(spec: ConfigSpec<T>, path: string, defaults: Record<string, unknown>): ConfigProblem[] {
  const file = readConfigFile(path, spec.keys, spec.readers, spec.finish);
  if (file.problems.length) return file.problems;
  try {
    spec.build(mergeFlags(defaults, new Set(), file, spec.keys));
  } catch (err) {
    if (!isHwError(err)) throw err;
    return [problemAtFlag(err, file, spec.keys, new Set()) ?? { line: 1, col: 1, message: err.message }];
  }
  return [];
}

/** The effective flag values by key, for `config show`. */
export function flagView(opts: Record<string, unknown>, keys: ConfigKey[]): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const k of keys) {
    const v = opts[k.prop];
    if (v !== undefined) view[k.key] = v;
    else if (k.boolean) view[k.key] = false;
  }
  return view;
}

export interface ReloadOutcome {
  file: string;
  /** keys and sections whose new value is in force */
  applied: string[];
  /** keys changed in the file that keep their running value until the manager restarts */
  restartNeeded: string[];
}

/**
 * Holds the running settings and applies a changed file: reloadable keys and every section go
 * through `apply`; other changed keys are reported and keep their running value. A bad file throws
 * and nothing changes.
 */
export class ConfigReloader<T> {
  private running: Effective<T>;
  private pendingRestart: string[] = [];

  constructor(private readonly o: {
    spec: ConfigSpec<T>; path: string | undefined; cli: Record<string, unknown>; given: Set<string>; initial: Effective<T>;
    /** keys applied without a restart */
    reloadable: Set<string>;
    apply: (next: Effective<T>, changed: string[]) => void;
  }) {
    this.running = o.initial;
  }

  get current(): Effective<T> {
    return this.running;
  }

  get path(): string | undefined {
    return this.o.path;
  }

  reload(): ReloadOutcome {
    if (this.o.path === undefined) throw noConfig();
    const next = loadEffective(this.o.spec, this.o.path, this.o.cli, this.o.given);
    const applied: string[] = [];
    const restartNeeded: string[] = [];
    const opts = { ...this.running.opts };
    for (const k of this.o.spec.keys) {
      if (same(next.opts[k.prop], this.running.opts[k.prop])) continue;
      if (this.o.reloadable.has(k.key)) {
        opts[k.prop] = next.opts[k.prop];
        applied.push(k.key);
      } else {
        restartNeeded.push(k.key);
      }
    }
    const names = new Set([...Object.keys(next.sections), ...Object.keys(this.running.sections)]);
    for (const name of names) if (!same(next.sections[name], this.running.sections[name])) applied.push(name);
    // Rebuilt from the kept values: a restart-only key keeps what the running manager uses.
    const merged: Effective<T> = { opts, settings: this.o.spec.build(opts), sections: next.sections, ...(next.file ? { file: next.file } : {}) };
    this.o.apply(merged, applied);
    this.running = merged;
    this.pendingRestart = restartNeeded;
    return { file: this.o.path, applied, restartNeeded };
  }

  /**
   * The effective config: flag values by key, the sections, and what waits for a restart, as
   * `redactConfigView` shows it to an administrator, or to a viewer with `redact: true`.
   */
  show(o: { redact?: boolean } = {}): Record<string, unknown> {
    return redactConfigView({
      ...(this.o.path ? { file: this.o.path } : {}), ...flagView(this.running.opts, this.o.spec.keys), ...this.running.sections,
      ...(this.pendingRestart.length ? { 'restart-needed': this.pendingRestart } : {}),
    }, o.redact ? 'viewer' : 'admin');
  }
}

/** A key whose value is itself a credential (`webhook-secret`, `api-token`); `*-file` keys hold a path, which may be shown. */
const SECRET_KEY = /(secret|token|password|passwd|passphrase|credentials?|api-?key)$/i;
/** Keys whose URLs carry their secret in the path (a chat webhook's URL is its credential). */
const SECRET_PATH_KEYS = new Set(['webhook']);
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The config view for an audience. Neither ever holds a secret value: a credential key's value is
 * `(hidden)`, a URL's password and credential-like query values are `***`, and a webhook's path is
 * `…`. A viewer sees every URL as scheme://host:port only. File paths (of the secret files too)
 * are shown to both.
 */
export function redactConfigView(view: Record<string, unknown>, audience: 'admin' | 'viewer'): Record<string, unknown> {
  // `named`: the key is a setting's name, not data (a label's name under `labels` is data).
  const walk = (v: unknown, key: string, named = true): unknown => {
    if (v === undefined || v === null || typeof v === 'boolean') return v;
    if (named && SECRET_KEY.test(key)) return '(hidden)';
    if (typeof v === 'string') {
      if (!URL_LIKE.test(v)) return v;
      if (audience === 'viewer') return redactUrl(v);
      return SECRET_PATH_KEYS.has(key) ? hidePath(maskUrl(v)) : maskUrl(v);
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, key, named));
    if (typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x, k, key !== 'labels')]));
    return v;
  };
  return walk(view, '') as Record<string, unknown>;
}

function hidePath(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${u.username}${u.password ? ':***' : ''}@` : ''}${u.host}${u.pathname.length > 1 || u.search ? '/…' : '/'}`;
  } catch {
    return url;
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function noConfig(): HwError {
  return new HwError('NO_CONFIG', 'the manager was started without --config: there is no file to reload');
}

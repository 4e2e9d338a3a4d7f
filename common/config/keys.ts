// The config file's keys for serve flags, derived from the serve command's own option definitions
// (cac), so that a flag added to serve has its key without a second list to keep in step.

export interface CacOptionLike {
  rawName: string;
  name: string;
  names: string[];
  description: string;
  isBoolean?: boolean;
  negated: boolean;
  config: { default?: unknown };
}

export interface ConfigKey {
  /** the key in the file: the long flag without its dashes (`udp-port`; `console` for `--no-console`) */
  key: string;
  /** the flag as written on the command line (`--udp-port`, `--no-console`) */
  flag: string;
  /** the property cac gives the action (`udpPort`) */
  prop: string;
  boolean: boolean;
  /** a flag whose description says it may be given several times takes a list in the file */
  repeatable: boolean;
  description: string;
}

/** Flags of the program that are not settings of a serving manager. */
const NOT_SETTINGS = new Set(['help', 'version', 'config', 'timeout']);

export function configKeys(options: CacOptionLike[]): ConfigKey[] {
  const keys: ConfigKey[] = [];
  const seen = new Set<string>();
  for (const o of options) {
    const long = /--(?:no-)?([a-z0-9][a-z0-9-]*)/.exec(o.rawName);
    if (!long) continue;
    const key = long[1]!;
    if (NOT_SETTINGS.has(key) || seen.has(key)) continue;
    seen.add(key);
    keys.push({
      key, flag: o.negated ? `--no-${key}` : `--${key}`, prop: o.name, boolean: !!o.isBoolean || o.negated,
      repeatable: /repeatable|one per /i.test(o.description), description: o.description,
    });
  }
  return keys;
}

/** The flags' defaults by prop, as cac gives them with no flag on the command line. */
export function flagDefaults(options: CacOptionLike[]): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  for (const o of options) if (o.config.default !== undefined) d[o.name] = o.config.default;
  return d;
}

/**
 * The props given on the command line itself (not defaults): those win over the file. Scans argv
 * the way cac reads it (`--x v`, `--x=v`, `--no-x`).
 */
export function flagsGiven(argv: string[], keys: ConfigKey[]): Set<string> {
  const byFlag = new Map<string, string>();
  for (const k of keys) {
    byFlag.set(`--${k.key}`, k.prop);
    byFlag.set(`--no-${k.key}`, k.prop);
  }
  const given = new Set<string>();
  for (const arg of argv) {
    if (arg === '--') break;
    const prop = byFlag.get(arg.split('=')[0]!);
    if (prop) given.add(prop);
  }
  return given;
}

/** Levenshtein distance, for "did you mean" on a misspelt key. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The closest of `known` to `word`, if close enough to be a likely typo. */
export function closest(word: string, known: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/_/g, '-');
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(norm(word), norm(k));
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

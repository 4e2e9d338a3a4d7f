// Which agents a selector names: an exact name, id (or its first 8+ characters) or IP address;
// `id:<id>` or `name:<name>` (that only); a glob on the name (`web-*`, `db-?`); or `label=value`
// (the value may be a glob too). Used by the
// config's `agents:` overrides and `labels:`, silences and commands to many hosts.

export interface Selectable {
  id: string;
  name: string;
  address?: string;
  labels?: Record<string, string>;
}

const LABEL_KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/;

/** Why `sel` is not a selector, or undefined when it is one. */
export function checkSelector(sel: string): string | undefined {
  if (!sel || sel.length > 256) return 'a selector is a name, glob or label=value of 1 to 256 characters';
  const eq = sel.indexOf('=');
  if (eq >= 0 && !LABEL_KEY_RE.test(sel.slice(0, eq))) return `"${sel.slice(0, eq)}" is not a label name (letters, digits, _ . -)`;
  return undefined;
}

export function isGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

const globCache = new Map<string, RegExp>();
export function globMatch(glob: string, s: string): boolean {
  let re = globCache.get(glob);
  if (!re) {
    re = new RegExp(`^${glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.').replace(/\[!/g, '[^')}$`);
    if (globCache.size > 1000) globCache.clear();
    globCache.set(glob, re);
  }
  return re.test(s);
}

/** Why `g` cannot be used as a glob (`*`, `?`, `[abc]`, `[!abc]`), or undefined when it can. */
export function globProblem(g: string, maxLen = 256): string | undefined {
  if (g === '') return 'an empty glob matches nothing';
  if (g.length > maxLen) return `longer than ${maxLen} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(g)) return 'a control character';
  if (/\[!?\]/.test(g)) return 'an empty class [] (a class is [abc] or [!abc])';
  try {
    globMatch(g, '');
  } catch {
    return 'a [ without its ] or a bad range (a class is [abc], [a-z] or [!abc])';
  }
  return undefined;
}

/** Whether the selector is a label selector or a glob: it may name several agents. */
export function isMulti(sel: string): boolean {
  return sel.includes('=') || isGlob(sel);
}

export function matches(sel: string, a: Selectable): boolean {
  const eq = sel.indexOf('=');
  if (eq >= 0) {
    const v = a.labels?.[sel.slice(0, eq)];
    return v !== undefined && globMatch(sel.slice(eq + 1), v);
  }
  // `id:` and `name:` name exactly one thing, as in ManagerState.find: a selector that is one
  // agent's id must not also pick the agent that took it as its name.
  if (sel.startsWith('id:')) return a.id === sel.slice(3);
  if (sel.startsWith('name:')) return a.name === sel.slice(5);
  if (isGlob(sel)) return globMatch(sel, a.name);
  return a.name === sel || a.id === sel || (sel.length >= 8 && a.id.startsWith(sel)) || (!!a.address && a.address === sel);
}

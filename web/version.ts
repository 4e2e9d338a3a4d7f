// Versions as the agents report them (0.1.0, 0.2.0-rc.1, 1.4.2+build.7), compared as semver does:
// numbers part by part, a pre-release before its release, build metadata ignored.

const VERSION_RE = /^v?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** -1, 0 or 1; null when either is not a version (an old agent's empty field, "unknown"). */
export function compareVersions(a: string | null | undefined, b: string | null | undefined): -1 | 0 | 1 | null {
  const x = VERSION_RE.exec(a ?? '');
  const y = VERSION_RE.exec(b ?? '');
  if (!x || !y) return null;
  const nx = x[1]!.split('.').map(Number);
  const ny = y[1]!.split('.').map(Number);
  for (let i = 0; i < Math.max(nx.length, ny.length); i++) {
    const d = (nx[i] ?? 0) - (ny[i] ?? 0);
    if (d) return d < 0 ? -1 : 1;
  }
  const px = x[2];
  const py = y[2];
  if (px === py) return 0;
  if (px === undefined) return 1;
  if (py === undefined) return -1;
  return comparePre(px.split('.'), py.split('.'));
}

/** Pre-release parts: numbers below words, numbers by value, words by text, the shorter list first. */
function comparePre(a: string[], b: string[]): -1 | 0 | 1 {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const p = a[i];
    const q = b[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return Number(p) < Number(q) ? -1 : 1;
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/** How an agent's version stands against the manager's. */
export function versionMark(agent: string | null | undefined, manager: string | null | undefined): 'older' | 'same' | 'newer' | 'unknown' {
  const c = compareVersions(agent, manager);
  return c === null ? 'unknown' : c < 0 ? 'older' : c > 0 ? 'newer' : 'same';
}

/** The host page's fact: the version, and how it stands when it is not the manager's. */
export function versionFact(agent: string | null | undefined, manager: string | null | undefined): string {
  if (!agent) return 'unknown';
  const mark = versionMark(agent, manager);
  if (!manager || mark === 'same') return agent;
  return mark === 'unknown' ? `${agent} (not comparable with the manager's ${manager})` : `${agent}, ${mark} than the manager (${manager})`;
}

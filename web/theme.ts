// Light and dark follow the system unless the user picks one (kept in localStorage).

export type Theme = 'auto' | 'light' | 'dark';
const KEY = 'hostwatch-theme';
const listeners = new Set<() => void>();

export function theme(): Theme {
  const t = localStorage.getItem(KEY);
  return t === 'light' || t === 'dark' ? t : 'auto';
}

export function applyTheme(t: Theme = theme()): void {
  document.documentElement.dataset.theme = t;
  if (t === 'auto') localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, t);
  for (const l of listeners) l();
}

export function nextTheme(): Theme {
  const order: Theme[] = ['auto', 'light', 'dark'];
  const t = order[(order.indexOf(theme()) + 1) % order.length]!;
  applyTheme(t);
  return t;
}

export function isDark(): boolean {
  const t = theme();
  return t === 'dark' || (t === 'auto' && matchMedia('(prefers-color-scheme: dark)').matches);
}

/** A CSS custom property's value, for canvases and charts. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function onThemeChange(fn: () => void): () => void {
  listeners.add(fn);
  const mq = matchMedia('(prefers-color-scheme: dark)');
  mq.addEventListener('change', fn);
  return () => {
    listeners.delete(fn);
    mq.removeEventListener('change', fn);
  };
}

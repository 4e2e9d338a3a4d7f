// Numbers as an administrator reads them.

export const pct = (v: unknown) => (typeof v === 'number' ? `${v.toFixed(v >= 10 ? 0 : 1)}%` : '-');

export function bytes(v: unknown): string {
  if (typeof v !== 'number') return '-';
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let n = v;
  let i = 0;
  while (Math.abs(n) >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(n >= 100 || i === 0 ? 0 : 1)} ${u[i]}`;
}

/** A count with thousands separators ("1,234"), as the rest of the page's English. */
export const count = (n: number) => n.toLocaleString('en');

/** "1 sample lost", "1,234 samples lost" */
export const samplesLost = (n: number) => `${count(n)} sample${n === 1 ? '' : 's'} lost`;

export const rate = (v: unknown) => (typeof v === 'number' ? `${bytes(v)}/s` : '-');

export function duration(secs: unknown): string {
  if (typeof secs !== 'number') return '-';
  const d = Math.floor(secs / 86400);
  const h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  return `${m}m ${Math.floor(secs % 60)}s`;
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Local time, 24 h; the date only when it is not today (short enough for a phone's column). */
export function time(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  const clock = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const today = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return today ? clock : `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${clock}`;
}

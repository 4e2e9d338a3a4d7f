// A one-hour CPU sparkline on a small canvas (cheaper than 1,000 uPlot instances).

const W = 96;
const H = 22;

export function sparkCanvas(): HTMLCanvasElement {
  const c = document.createElement('canvas');
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  c.width = W * dpr;
  c.height = H * dpr;
  c.className = 'spark';
  c.setAttribute('role', 'img');
  return c;
}

/** Canvases drawn on: a blank one never drawn on needs no clearing (nor a 2D context, which costs a backing store). */
const drawn = new WeakSet<HTMLCanvasElement>();

/** What a screen reader says for the sparkline (set on the canvas whether it is drawn or not yet). */
export function labelSpark(c: HTMLCanvasElement, values: (number | null)[] | undefined): void {
  const known = (values ?? []).filter((x): x is number => typeof x === 'number');
  const label = known.length ? `CPU over the last hour, ${Math.min(...known).toFixed(0)} to ${Math.max(...known).toFixed(0)}%` : 'no CPU samples in the last hour';
  if (c.getAttribute('aria-label') !== label) c.setAttribute('aria-label', label);
}

export function drawSpark(c: HTMLCanvasElement, values: (number | null)[] | undefined, color: string): void {
  labelSpark(c, values);
  const v = values ?? [];
  const known = v.filter((x): x is number => typeof x === 'number');
  if (!known.length && !drawn.has(c)) return;
  const ctx = c.getContext('2d');
  if (!ctx) return;
  drawn.add(c);
  const dpr = c.width / W;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  if (!known.length) return;
  const step = W / Math.max(1, v.length - 1);
  const y = (x: number) => H - 1 - (Math.min(100, Math.max(0, x)) / 100) * (H - 2);
  // Runs of known values, each drawn as a line over a light area (a flat 100% stays visible).
  const runs: [number, number][][] = [];
  let run: [number, number][] = [];
  v.forEach((x, i) => {
    if (typeof x !== 'number') {
      if (run.length) runs.push(run);
      run = [];
      return;
    }
    run.push([i * step, y(x)]);
  });
  if (run.length) runs.push(run);
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 1.25;
  for (const r of runs) {
    // A lone minute (the newest sits on the right edge) is drawn as a short dash to its left.
    if (r.length === 1) r.unshift([Math.max(0, r[0]![0] - Math.max(6, step)), r[0]![1]]);
    ctx.beginPath();
    r.forEach(([px, py], i) => (i ? ctx.lineTo(px, py) : ctx.moveTo(px, py)));
    ctx.stroke();
    ctx.lineTo(r[r.length - 1]![0], H);
    ctx.lineTo(r[0]![0], H);
    ctx.closePath();
    ctx.globalAlpha = 0.18;
    ctx.fill();
    ctx.globalAlpha = 1;
  }
}

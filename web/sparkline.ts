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

export function drawSpark(c: HTMLCanvasElement, values: (number | null)[] | undefined, color: string): void {
  const ctx = c.getContext('2d');
  if (!ctx) return;
  const dpr = c.width / W;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const v = values ?? [];
  const known = v.filter((x): x is number => typeof x === 'number');
  c.setAttribute('aria-label', known.length ? `CPU over the last hour, ${Math.min(...known).toFixed(0)} to ${Math.max(...known).toFixed(0)}%` : 'no CPU samples in the last hour');
  if (!known.length) return;
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.25;
  ctx.beginPath();
  let pen = false;
  const step = W / Math.max(1, v.length - 1);
  v.forEach((x, i) => {
    if (typeof x !== 'number') {
      pen = false;
      return;
    }
    const y = H - 1 - (Math.min(100, Math.max(0, x)) / 100) * (H - 2);
    if (pen) ctx.lineTo(i * step, y);
    else ctx.moveTo(i * step, y);
    pen = true;
  });
  ctx.stroke();
}

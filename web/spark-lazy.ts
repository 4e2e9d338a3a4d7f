// Sparklines drawn only while on screen (or near it): drawing 1,000 rows' canvases at once was a
// fifth of the fleet's first render, for rows nobody sees yet. Each canvas's label (what a screen
// reader says) is set at once; its picture when it comes into view, and kept current while it is.

import { drawSpark, labelSpark } from './sparkline.ts';

type Values = (number | null)[] | undefined;

/** Rows this far below (or above) the window are drawn ahead of a scroll. */
const AHEAD = '300px 0px';

export class LazySparks {
  private readonly shown = new Set<HTMLCanvasElement>();
  /** what a canvas out of view is to show once it comes into view */
  private readonly owed = new Map<HTMLCanvasElement, { values: Values; color: string }>();
  private readonly io = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const c = e.target as HTMLCanvasElement;
      if (!e.isIntersecting) {
        this.shown.delete(c);
        continue;
      }
      this.shown.add(c);
      const o = this.owed.get(c);
      if (!o) continue;
      this.owed.delete(c);
      drawSpark(c, o.values, o.color);
    }
  }, { rootMargin: AHEAD });

  /** A new canvas: drawn from now on when it comes into view. */
  watch(c: HTMLCanvasElement): void {
    this.io.observe(c);
  }

  draw(c: HTMLCanvasElement, values: Values, color: string): void {
    if (this.shown.has(c)) {
      this.owed.delete(c);
      drawSpark(c, values, color);
      return;
    }
    labelSpark(c, values);
    this.owed.set(c, { values, color });
  }

  /** A canvas gone for good (its row removed). */
  forget(c: HTMLCanvasElement): void {
    this.io.unobserve(c);
    this.shown.delete(c);
    this.owed.delete(c);
  }

  stop(): void {
    this.io.disconnect();
    this.shown.clear();
    this.owed.clear();
  }
}

// Decides when CPU is high and when it is back to normal, from one sample a second. High when
// every sample of the last `forSeconds` is above the threshold; normal again when every sample of
// as long is below threshold - hysteresis, so usage hovering at the threshold does not flap.

import { CPU_HYSTERESIS } from '../constants.ts';
import type { AlertType } from '../wire/messages.ts';

export interface CpuAlertOptions {
  threshold: number;
  forSamples: number;
  hysteresis?: number;
}

export interface CpuAlertDecision {
  alert: AlertType;
  /** mean of the window that decided it */
  value: number;
  threshold: number;
}

export class CpuAlertMonitor {
  private readonly threshold: number;
  private readonly low: number;
  private readonly n: number;
  private readonly window: number[] = [];
  high = false;

  constructor(opts: CpuAlertOptions) {
    this.threshold = opts.threshold;
    this.low = opts.threshold - (opts.hysteresis ?? CPU_HYSTERESIS);
    this.n = Math.max(1, Math.round(opts.forSamples));
  }

  /** Feeds one sample (percent, or null when it could not be read). */
  push(percent: number | null): CpuAlertDecision | null {
    if (percent === null) {
      this.window.length = 0; // a gap: start the window again rather than guess
      return null;
    }
    this.window.push(percent);
    if (this.window.length > this.n) this.window.shift();
    if (this.window.length < this.n) return null;
    const mean = Math.round((this.window.reduce((a, b) => a + b, 0) / this.n) * 10) / 10;
    if (!this.high && this.window.every((v) => v > this.threshold)) {
      this.high = true;
      return { alert: 'CPU_HIGH', value: mean, threshold: this.threshold };
    }
    if (this.high && this.window.every((v) => v < this.low)) {
      this.high = false;
      return { alert: 'CPU_NORMAL', value: mean, threshold: this.threshold };
    }
    return null;
  }
}

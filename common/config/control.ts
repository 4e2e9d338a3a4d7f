// The running manager's config file, as the API, the console and SIGHUP reach it: `reload` applies
// a changed file (a bad one is refused whole and nothing changes), `show` is the effective config.
// Each reload, applied or refused, is recorded and told to the administrator. Not the manager's
// own job: a manager built without a file (tests, the demo) has none, and says so (NO_CONFIG).

import { toWireError } from '../errors.ts';
import { noConfig, type ReloadOutcome } from './effective.ts';

/** What reload and show need of the config file (effective.ts ConfigReloader). */
export interface ConfigSource {
  reload(): ReloadOutcome;
  /** `redact`: the viewers' view (see redactConfigView); the admins' view holds no secret value either */
  show(o?: { redact?: boolean }): Record<string, unknown>;
}

export interface ConfigControlOptions {
  /** writes an event to the record */
  record: (e: { event: string } & Record<string, unknown>) => void;
  /** a line for the administrator (the console, or the manager's output) */
  notice: (line: string) => void;
}

export class ConfigControl {
  /** the file behind the manager, set by the program once it has read it */
  source: ConfigSource | undefined;
  private readonly o: ConfigControlOptions;

  constructor(o: ConfigControlOptions) {
    this.o = o;
  }

  /** Applies a changed config file (console `reload`, POST /api/reload, SIGHUP); a bad file throws BAD_CONFIG and nothing changes. */
  reload(by: string): ReloadOutcome {
    if (!this.source) throw noConfig();
    try {
      const r = this.source.reload();
      this.o.record({ event: 'config-reload', by, file: r.file, applied: r.applied, restartNeeded: r.restartNeeded });
      this.o.notice(`config ${r.file} reloaded by ${by}: ${r.applied.length ? `applied ${r.applied.join(', ')}` : 'nothing changed'}${r.restartNeeded.length ? `; needs a restart: ${r.restartNeeded.join(', ')}` : ''}`);
      return r;
    } catch (err) {
      const e = toWireError(err);
      this.o.record({ event: 'config-refused', by, code: e.code, error: e.message });
      this.o.notice(`config reload by ${by} refused, running config kept: ${e.message}`);
      throw err;
    }
  }

  /** The effective config (`config show`); `redact: true` for a viewer (URLs as scheme://host:port). */
  show(o: { redact?: boolean } = {}): Record<string, unknown> {
    if (!this.source) throw noConfig();
    return this.source.show(o);
  }
}

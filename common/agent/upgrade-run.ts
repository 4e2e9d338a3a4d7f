// What the agent program does with a verified upgrade: stop the agent (its connection, spool and
// queue files closed, so the new one takes them over), then switch and watch (upgrade-switch.ts)
// in this same process, the old and known-good code, and exit once the new agent is confirmed or
// the old one is started again. And at start, the guard of this agent's own probation when it is
// the new version of a switch not yet confirmed (upgrade-probation.ts).

import { VERSION } from '../version.ts';
import type { Agent } from './agent.ts';
import { guardProbation } from './upgrade-probation.ts';
import { selfCommand, UpgradeSwitch, type SwitchOptions } from './upgrade-switch.ts';

export interface UpgradeRunOptions {
  stateDir: string;
  probationMs?: number;
  log: (line: string) => void;
  exit?: (code: number) => void;
}

export function switchOnUpgrade(agent: Agent, o: UpgradeRunOptions): void {
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const self = selfCommand();
  const make = (x: Pick<SwitchOptions, 'exe' | 'from' | 'to' | 'by'>) => new UpgradeSwitch({
    ...x, stateDir: o.stateDir, command: { cmd: self.cmd, args: self.args },
    ...(o.probationMs !== undefined ? { probationMs: o.probationMs } : {}), log: o.log,
  });

  const guard = guardProbation({
    stateDir: o.stateDir, version: VERSION, log: o.log,
    rollback: (s, reason) => void (async () => {
      await agent.stop();
      const sw = make({ exe: s.exe, from: s.from, to: s.to, ...(s.by ? { by: s.by } : {}) });
      await sw.rollback(reason, undefined).catch((err) => o.log(`the rollback failed: ${(err as Error).message}`));
      exit(1);
    })(),
  });

  agent.once('upgrade', (u) => {
    guard.stop();
    void (async () => {
      await agent.stop();
      const sw = make({ exe: u.path.replace(/\.new$/, ''), from: VERSION, to: u.sig.manifest.version, ...(u.by ? { by: u.by } : {}) });
      let code = 0;
      try {
        const r = await sw.run();
        o.log(r.ok ? `the new agent ${u.sig.manifest.version} is running: this one leaves` : `rolled back: ${r.reason}`);
      } catch (err) {
        // The switch could not be done (a rename refused): whatever is at <exe> is started again.
        o.log(`the switch failed: ${(err as Error).message}`);
        await sw.rollback(`the switch failed: ${(err as Error).message}`, undefined).catch(() => {});
        code = 1;
      }
      exit(code);
    })();
  });
}

// What the agent program does with a verified upgrade: stop the agent (its connection, spool and
// queue files closed, so the new one takes them over), then switch and watch (upgrade-switch.ts)
// in this same process, the old and known-good code, and exit once the new agent is confirmed or
// the old one is started again.

import { VERSION } from '../version.ts';
import type { Agent } from './agent.ts';
import { selfCommand, UpgradeSwitch } from './upgrade-switch.ts';

export function switchOnUpgrade(agent: Agent, o: { stateDir: string; probationMs?: number; log: (line: string) => void; exit?: (code: number) => void }): void {
  agent.once('upgrade', (u) => {
    void (async () => {
      const exe = u.path.replace(/\.new$/, '');
      await agent.stop();
      const self = selfCommand();
      const sw = new UpgradeSwitch({
        exe, stateDir: o.stateDir, command: { cmd: self.cmd, args: self.args }, from: VERSION, to: u.sig.manifest.version,
        ...(u.by ? { by: u.by } : {}), ...(o.probationMs !== undefined ? { probationMs: o.probationMs } : {}), log: o.log,
      });
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
      (o.exit ?? process.exit)(code);
    })();
  });
}

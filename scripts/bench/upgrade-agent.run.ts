// The agent of the upgrade benchmark, in its own process: the real Agent (common/agent/start.ts)
// with --allow-upgrade, whose upgrade is real up to what runs next. It receives the signed file
// from the manager within its credit, writes it to <exe>.new, fsyncs it and checks its size, sha256
// and signature on disk (upgrade-receiver.ts); then the product's switch (upgrade-switch.ts) keeps
// <exe> as <exe>.previous, renames the new file over <exe>, starts "the new agent" and waits for
// its confirmation. The one stand-in: what is started is not the 100 MB file now at <exe> (random
// bytes, not a program) but this same program bundled as version B (--then <file>), with the same
// state folder, so it is welcomed on B and confirms, as a real B would.
//
//   node upgrade-agent.run.mjs --manager HOST:PORT --udp-port U --name N --state-dir DIR --exe FILE
//        [--then B.mjs] [--probation-ms MS] [--interval S]

import { startAgent } from '../../common/agent/start.ts';
import { UpgradeSwitch } from '../../common/agent/upgrade-switch.ts';
import { VERSION } from '../../common/version.ts';
import { runArg } from '../lib/run-arg.ts';

const arg = (name: string, fallback?: string): string => runArg('upgrade-agent', name, fallback);

const [host, port] = arg('manager').split(':');
const stateDir = arg('state-dir');
const exe = arg('exe');
const then = process.argv.includes('--then') ? arg('then') : undefined;
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

const agent = await startAgent({
  managers: [{ host: host!, port: Number(port) }], udpPort: Number(arg('udp-port')), name: arg('name'), stateDir,
  intervalS: Number(arg('interval', '10')), cpuThreshold: 80, cpuForS: 3, allowRestart: false, logFiles: [], noFiles: true,
  processesEveryMs: 0, services: false, allowUpgrade: true, upgradeExe: exe, log,
});
log(`agent ${VERSION} started`);

agent.once('upgrade', (u) => {
  void (async () => {
    await agent.stop();
    if (!then) {
      log(`verified ${u.sig.manifest.version}; no --then: nothing switched`);
      process.exit(0);
    }
    // The same arguments, without --then: version B takes no further upgrade of its own.
    const args = process.argv.slice(2);
    const at = args.indexOf('--then');
    args.splice(at, 2);
    const sw = new UpgradeSwitch({
      exe, stateDir, command: { cmd: process.execPath, args: [then, ...args] }, from: VERSION, to: u.sig.manifest.version,
      ...(u.by ? { by: u.by } : {}), probationMs: Number(arg('probation-ms', '120000')), log,
    });
    const r = await sw.run();
    log(r.ok ? `the new agent ${u.sig.manifest.version} is running: this one leaves` : `rolled back: ${r.reason}`);
    process.exit(r.ok ? 0 : 1);
  })();
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void agent.stop().then(() => process.exit(0)));

// `npm run demo`: a manager on loopback with a local agent reporting every 2 s, the console in
// front. Everything lives in ./demo-data; Ctrl-D or `quit` stops both.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const build = resolve(here, '..');
const dataDir = resolve('demo-data');
mkdirSync(dataDir, { recursive: true });
const info = join(dataDir, 'manager.json');
rmSync(info, { force: true });

const manager = spawn(process.execPath, [
  join(build, 'manager.mjs'), '--host', '127.0.0.1', '--port', '0', '--udp-port', '0', '--api', '127.0.0.1:0', '--data-dir', dataDir,
], { stdio: 'inherit' });

let agent: ReturnType<typeof spawn> | undefined;
const started = Date.now();
const timer = setInterval(() => {
  if (!existsSync(info)) {
    if (Date.now() - started > 15_000) {
      console.error('demo: the manager did not start within 15 s');
      manager.kill();
      process.exit(1);
    }
    return;
  }
  clearInterval(timer);
  const m = JSON.parse(readFileSync(info, 'utf8')) as { tcp: string; udp: string; fingerprint: string };
  const udpPort = m.udp.slice(m.udp.lastIndexOf(':') + 1);
  // The enroll token (read from the manager's file, never on the command line where `ps` shows it)
  // gets the local agent accepted at once; the fingerprint pins the manager.
  const log = openSync(join(dataDir, 'agent.log'), 'a');
  agent = spawn(process.execPath, [
    join(build, 'agent.mjs'), '--manager', m.tcp, '--udp-port', udpPort, '--name', 'demo-agent', '--interval', '2',
    '--state-dir', join(dataDir, 'agent-state'), '--enroll-token-file', join(dataDir, 'enroll-token'), '--manager-fingerprint', m.fingerprint,
  ], { stdio: ['ignore', log, log] });
}, 50);

manager.on('exit', (code) => {
  clearInterval(timer);
  agent?.kill('SIGTERM');
  process.exit(code ?? 0);
});
// The terminal's Ctrl-C reaches the manager too; the demo only waits for it to finish.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => manager.kill('SIGTERM'));

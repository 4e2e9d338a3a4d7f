// `npm run manager|agent|demo -- <args>`: bundle from source (about 100 ms), then run the program
// with the given arguments, exactly as the executables will be run.
import { spawn } from 'node:child_process';
import { buildDev } from './build-dev.mjs';

const [which, ...args] = process.argv.slice(2);
const entries = { manager: '.build/manager.mjs', agent: '.build/agent.mjs', demo: '.build/scripts/demo.mjs' };
if (!entries[which]) {
  console.error(`usage: node scripts/run.mjs manager|agent|demo [args...]`);
  process.exit(2);
}
await buildDev({ tests: false });
const child = spawn(process.execPath, ['--enable-source-maps', entries[which], ...args], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 1 : 1)));

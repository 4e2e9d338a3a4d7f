// `npm test` needs tmux (the console test drives the manager through a real terminal). On a fresh
// Debian machine, as root, install it; otherwise say what is missing (the test then fails with
// the same hint rather than being skipped).
import { spawnSync } from 'node:child_process';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

if (!has('tmux')) {
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.log('pretest: installing tmux with apt-get (the console test needs a real terminal)...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'tmux'], { env, stdio: 'inherit' });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'inherit' });
      r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'tmux'], { env, stdio: 'inherit' });
    }
    if (r.status !== 0) console.warn('pretest: could not install tmux; the console test will fail');
  } else {
    console.warn('pretest: tmux is missing (apt-get install tmux); the console test will fail');
  }
}

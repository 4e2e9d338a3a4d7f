// `npm test` needs tmux (the console test drives the manager through a real terminal), Debian's
// chromium (the dashboard's browser tests; never a browser download), and the real
// Prometheus, promtool and Alertmanager (the /metrics, /sd and alert delivery tests run against
// them). On a fresh Debian machine, as root, install what is missing; otherwise say what is missing
// (the tests then fail with the same hint rather than being skipped).
import { spawnSync } from 'node:child_process';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

const wanted = [
  { cmd: 'tmux', pkg: 'tmux', why: 'the console test needs a real terminal' },
  { cmd: 'chromium', pkg: 'chromium', why: 'the dashboard tests run in a real browser' },
  { cmd: 'promtool', pkg: 'prometheus', why: 'the /metrics and /sd tests run against Prometheus' },
  { cmd: 'prometheus-alertmanager', pkg: 'prometheus-alertmanager', why: 'the alert delivery tests run against Alertmanager' },
];
const missing = wanted.filter((w) => !has(w.cmd));

if (missing.length) {
  const pkgs = missing.map((m) => m.pkg);
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.log(`pretest: installing ${pkgs.join(' ')} with apt-get (${missing.map((m) => m.why).join('; ')})...`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env, stdio: 'inherit' });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'inherit' });
      r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env, stdio: 'inherit' });
    }
    if (r.status !== 0) console.warn(`pretest: could not install ${pkgs.join(' ')}; their tests will fail`);
  } else {
    console.warn(`pretest: missing ${pkgs.join(' ')} (apt-get install ${pkgs.join(' ')}); their tests will fail`);
  }
}

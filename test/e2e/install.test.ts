// manager install-command against a real manager with the dashboard on and a folder of fake agent
// executables (--agent-dist): the printed Linux command run for real (curl with the printed pin,
// sha256sum, then the "agent" it downloaded, a script that keeps its arguments and token), a wrong
// pin refused by curl, the .sha256 endpoint, the Windows line's thumbprint and sha256, a missing
// platform, no dashboard; then the token it printed enrolling a real agent once, a second use and
// an expired one refused at hello with their codes.

import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readConnectedMarker } from '../../common/agent/connected-marker.ts';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { cli, cliJson, killAll, run, AGENT_JS, startManager, waitOnline, type ManagerProc } from './procs.helper.ts';

let mgr: ManagerProc;
let noWeb: ManagerProc;
let webPort = 0;
let dist = '';
let out = '';
let setupError: unknown;
const hasCurl = spawnSync('curl', ['--version']).status === 0 && spawnSync('sha256sum', ['--version']).status === 0;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

test.before(async () => {
  try {
    dist = tempDir('hw-dist-');
    out = tempDir('hw-fake-out-');
    chmodSync(out, 0o777);
    // The "agent" the command downloads and runs: keeps its arguments and the token it is given.
    writeFileSync(join(dist, 'agent-linux-x64'), `#!/bin/sh
printf '%s\\n' "$@" > ${out}/args
while [ $# -gt 0 ]; do [ "$1" = --enroll-token-file ] && cp "$2" ${out}/token; shift; done
`, { mode: 0o755 });
    writeFileSync(join(dist, 'agent-win-x64.exe'), Buffer.alloc(300_000, 7));
    mgr = await startManager(['--web', '127.0.0.1:0', '--agent-dist', dist]);
    webPort = Number((await waitFor(() => /dashboard\s+https:\/\/127\.0\.0\.1:(\d+)\//.exec(mgr.output()), 10_000, 'the HTTPS dashboard line'))[1]);
    await waitFor(() => mgr.output().includes(`agent downloads    agent-linux-x64, agent-win-x64.exe from ${dist}`), 5000, 'the downloads line');
    noWeb = await startManager([]);
  } catch (err) {
    setupError = err;
  }
});

test.after(async () => {
  await killAll();
  cleanTempDirs();
});

function get(path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: webPort, path, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const webCert = () => readFileSync(join(mgr.dataDir, 'manager-cert.pem'), 'utf8');

test('the Linux command, run as printed: pinned download, sha256 checked, agent install with the token and labels', timed(30_000, async () => {
  if (setupError) throw setupError;
  const r = await cli(mgr.dataDir, ['install-command', '--label', 'role=web', '--ttl', '2h']);
  assert.is(r.code, 0, r.stderr);
  const command = r.stdout.trim();
  assert.is(command.split('\n').length, 1, 'one line');
  assert.match(command, `https://127.0.0.1:${webPort}/dist/agent-linux-x64`);
  assert.match(r.stderr, /as root/);
  assert.match(r.stderr, /the key pinned: sha256\/\//);
  if (!hasCurl) {
    console.log('  (curl or sha256sum missing: the command is not run)');
    return;
  }
  const ran = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
  assert.is(ran.status, 0, ran.stderr);
  const args = readFileSync(join(out, 'args'), 'utf8').trim().split('\n');
  const fp = new X509Certificate(webCert()).fingerprint256.replace(/:/g, '');
  assert.equal(args.slice(0, 8), ['install', '--manager', `127.0.0.1:${mgr.tcpPort}`, '--udp-port', String(mgr.udpPort), '--manager-fingerprint', fp, '--label']);
  assert.is(args[8], 'role=web');
  assert.match(readFileSync(join(out, 'token'), 'utf8'), /^[0-9a-f]{64}$/);
}));

test('the pin is the dashboard key\'s: a wrong one makes curl refuse (exit 90), a tampered file fails sha256sum', timed(20_000, async () => {
  if (setupError) throw setupError;
  if (!hasCurl) return console.log('  (skipped: no curl)');
  const a = await cliJson(mgr.dataDir, ['install-command']);
  const url = `https://127.0.0.1:${webPort}/dist/agent-linux-x64`;
  const good = spawnSync('curl', ['-fsS', '-k', '--pinnedpubkey', a.pin, '-o', '-', url]);
  assert.is(good.status, 0);
  assert.is(sha(good.stdout), a.sha256);
  const wrong = spawnSync('curl', ['-fsS', '-k', '--pinnedpubkey', `sha256//${createHash('sha256').update('another key').digest('base64')}`, '-o', '/dev/null', url]);
  assert.is(wrong.status, 90, String(wrong.stderr));
  const tampered = a.command.replace(a.sha256, sha('something else'));
  assert.is.not(spawnSync('sh', ['-c', tampered]).status, 0);
}));

test('/dist/<name>.sha256 and the file itself; a missing platform is DIST_MISSING naming the folder', timed(20_000, async () => {
  if (setupError) throw setupError;
  const exe = readFileSync(join(dist, 'agent-win-x64.exe'));
  const file = await get('/dist/agent-win-x64.exe');
  assert.is(file.status, 200);
  assert.is(sha(file.body), sha(exe));
  const sum = await get('/dist/agent-win-x64.exe.sha256');
  assert.is(sum.body.toString(), `${sha(exe)}  agent-win-x64.exe\n`);
  const missing = await get('/dist/agent-linux-arm64');
  assert.is(missing.status, 404);
  assert.is(JSON.parse(missing.body.toString()).error.code, 'DIST_MISSING');
  assert.is((await get('/dist/manager-linux-x64')).status, 404);
  const r = await cli(mgr.dataDir, ['install-command', '--arch', 'arm64']);
  assert.is(r.code, 1);
  assert.match(r.stderr, `no agent-linux-arm64 in ${dist}`);
  assert.match(r.stderr, '[DIST_MISSING]');
}));

test('Windows: a PowerShell line with the certificate thumbprint and the exe\'s sha256', timed(20_000, async () => {
  if (setupError) throw setupError;
  const a = await cliJson(mgr.dataDir, ['install-command', '--os', 'windows', '--label', 'role=db']);
  // The comment above the line says what the line checks: the thumbprint, not curl's key pin.
  const text = await cli(mgr.dataDir, ['install-command', '--os', 'windows']);
  assert.match(text.stderr, `the certificate pinned by its SHA-1 thumbprint ${a.thumbprint}`);
  assert.not.match(text.stderr, 'sha256//');
  const cert = new X509Certificate(webCert());
  assert.is(a.thumbprint, cert.fingerprint.replace(/:/g, ''));
  assert.match(a.command, `GetCertHashString() -eq '${a.thumbprint}'`);
  assert.match(a.command, `Invoke-WebRequest -UseBasicParsing 'https://127.0.0.1:${webPort}/dist/agent-win-x64.exe'`);
  assert.match(a.command, `-ne '${sha(readFileSync(join(dist, 'agent-win-x64.exe'))).toUpperCase()}'`);
  assert.match(a.command, `& $f 'install' '--manager' '127.0.0.1:${mgr.tcpPort}'`);
  assert.match(a.command, `'--label' 'role=db' --enroll-token-file $t`);
}));

test('no dashboard listener: WEB_DISABLED, saying which flag to add', timed(20_000, async () => {
  if (setupError) throw setupError;
  const r = await cli(noWeb.dataDir, ['install-command']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--web <host:port>.*\[WEB_DISABLED\]/);
}));

function agentWith(token: string, extra: string[] = []) {
  const dir = tempDir('hw-agent-');
  const file = join(dir, 'token');
  writeFileSync(file, token, { mode: 0o600 });
  const state = join(dir, 'state');
  mkdirSync(state);
  const fp = new X509Certificate(webCert()).fingerprint256.replace(/:/g, '');
  const args = ['--manager', `127.0.0.1:${mgr.tcpPort}`, '--udp-port', String(mgr.udpPort), '--interval', '1', '--manager-fingerprint', fp, '--enroll-token-file', file, '--state-dir', state, ...extra];
  return { state, args, proc: run(AGENT_JS, args) };
}

const tokenOf = (command: string) => /printf %s ([0-9a-f]{64})/.exec(command)![1]!;
const events = () => readFileSync(join(mgr.dataDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

test('the printed token enrolls one agent at once (connected marker written); a second agent with it: ENROLL_TOKEN_USED', timed(60_000, async () => {
  if (setupError) throw setupError;
  const a = await cliJson(mgr.dataDir, ['install-command', '--label', 'role=web']);
  const first = agentWith(tokenOf(a.command), ['--name', 'fresh-1']);
  const rec = await waitOnline(mgr.dataDir, 'fresh-1', 30_000, first.proc);
  assert.is(rec.trust, 'accepted');
  assert.ok(existsSync(join(first.state, 'connected')), 'the agent wrote its connected marker');
  const list = await cliJson<any[]>(mgr.dataDir, ['install-command', '--list']);
  const row = list.find((t) => t.id === a.tokenId);
  assert.is(row.state, 'used');
  assert.is(row.usedBy, rec.id);
  const text = (await cli(mgr.dataDir, ['install-command', '--list'])).stdout.split('\n').find((l) => l.startsWith(a.tokenId))!;
  assert.match(text, new RegExp(`\\s+used\\s.*\\sfresh-1 \\(${rec.id.slice(0, 8)}\\)$`), 'the agent that used it by name, as `agents` shows it');
  const second = agentWith(tokenOf(a.command), ['--name', 'fresh-2']);
  await waitFor(() => second.proc.output().includes('ENROLL_TOKEN_USED'), 20_000, 'the second use refused');
  assert.ok(events().some((e) => e.event === 'refused' && e.code === 'ENROLL_TOKEN_USED'));
  // Restarted with the same (now used) token in its unit, the first agent is still let in.
  first.proc.child.kill('SIGTERM');
  await waitFor(() => first.proc.child.exitCode !== null || first.proc.child.signalCode !== null, 10_000, 'the agent stopped');
  const again = run(AGENT_JS, first.args);
  await waitFor(() => again.output().includes('connected to manager'), 30_000, 'the first agent back');
  assert.not.match(again.output(), 'ENROLL_TOKEN');
}));

test('agent install (under --root) waits for the agent the unit starts: run from the unit\'s own ExecStart, accepted with the token', timed(60_000, async () => {
  if (setupError) throw setupError;
  const a = await cliJson(mgr.dataDir, ['install-command', '--label', 'role=unit']);
  const root = tempDir('hw-root-');
  const tok = join(tempDir('hw-tok-'), 'token');
  writeFileSync(tok, tokenOf(a.command), { mode: 0o600 });
  const fp = JSON.parse(readFileSync(join(mgr.dataDir, 'manager.json'), 'utf8')).fingerprint.replace(/:/g, '');
  const installer = run(AGENT_JS, ['install', '--manager', `127.0.0.1:${mgr.tcpPort}`, '--udp-port', String(mgr.udpPort), '--manager-fingerprint', fp, '--label', 'role=unit', '--enroll-token-file', tok, '--root', root, '--wait', '40s']);
  const unitPath = join(root, 'etc/systemd/system/hostwatch-agent.service');
  const unit = await waitFor(() => (existsSync(unitPath) ? readFileSync(unitPath, 'utf8') : null), 20_000, 'the unit written');
  // What systemd would start, with the paths moved under the root and the program run by node.
  const words = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(' ').map((w) => w.replace('/var/lib/hostwatch-agent', join(root, 'var/lib/hostwatch-agent')));
  assert.is(words[0], '/usr/local/lib/hostwatch-agent/hostwatch-agent');
  const service = run(AGENT_JS, [...words.slice(1), '--interval', '1', '--name', 'from-unit']);
  assert.is(await installer.exited, 0, installer.output());
  assert.match(installer.output(), `connected to manager 127.0.0.1:${mgr.tcpPort}\n`);
  const rec = await waitOnline(mgr.dataDir, 'from-unit', 30_000, service);
  assert.is(rec.trust, 'accepted');
  assert.is(rec.labels.role, 'unit');
}));

test('an expired token is refused at hello with ENROLL_TOKEN_EXPIRED; a revoked one enrolls nothing', timed(60_000, async () => {
  if (setupError) throw setupError;
  const a = await cliJson(mgr.dataDir, ['install-command', '--ttl', '1s']);
  await waitFor(() => Date.now() > Date.parse(a.expiresAt), 5000, 'the token to expire');
  const late = agentWith(tokenOf(a.command), ['--name', 'late-1']);
  await waitFor(() => late.proc.output().includes('ENROLL_TOKEN_EXPIRED'), 20_000, 'the expired token refused');
  assert.ok(events().some((e) => e.event === 'refused' && e.code === 'ENROLL_TOKEN_EXPIRED'));
  // What `agent install` reads to say why at once, instead of waiting out its time.
  const marker = await waitFor(() => readConnectedMarker(late.state), 10_000, 'the refusal in <state>/connected');
  assert.is(marker.status, 'refused');
  assert.match(marker.reason ?? '', /^ENROLL_TOKEN_EXPIRED: install token \S+ expired at .*make a new one/);
  assert.is((await cliJson<any[]>(mgr.dataDir, ['install-command', '--list'])).find((t) => t.id === a.tokenId).state, 'expired');

  const b = await cliJson(mgr.dataDir, ['install-command']);
  const revoked = await cliJson(mgr.dataDir, ['install-command', '--revoke', b.tokenId]);
  assert.is(revoked.id, b.tokenId);
  const r = await cli(mgr.dataDir, ['install-command', '--revoke', b.tokenId]);
  assert.match(r.stderr, '[TOKEN_NOT_FOUND]');
  const ag = agentWith(tokenOf(b.command), ['--name', 'revoked-1']);
  await waitFor(() => ag.proc.output().includes('waiting to be accepted'), 20_000, 'the agent pending, not enrolled');
}));

test.run();

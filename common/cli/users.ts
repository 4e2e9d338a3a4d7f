// `manager user add|list|remove|passwd` (the dashboard's users in <data-dir>/users.json, edited
// here whether or not the manager runs; it reads the file again when it changes) and `manager
// login-link` (asks the running manager for a one-time sign-in link).

import type { CAC } from 'cac';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { CLIENT_RESPONSE_TIMEOUT_MS } from './client.ts';
import { HwError } from '../errors.ts';
import { checkRole, checkUserName, UserStore } from '../web/users.ts';
import { last } from './run.ts';
import { inertText } from '../util/inert.ts';

export interface UserIo {
  out: (text: string) => void;
  /** asks for a secret without echo; absent when no one is at a terminal */
  askSecret?: (prompt: string) => Promise<string>;
  /** all of standard input */
  readStdin: () => Promise<string>;
}

async function newPassword(o: { passwordStdin?: boolean }, io: UserIo): Promise<string> {
  if (o.passwordStdin) {
    const text = await io.readStdin();
    const pw = text.split(/\r?\n/)[0] ?? '';
    if (!pw) throw new HwError('BAD_ARGS', '--password-stdin: standard input held no password');
    return pw;
  }
  if (!io.askSecret) throw new HwError('BAD_ARGS', 'no terminal to ask the password on: use --password-stdin');
  const a = await io.askSecret('Password: ');
  const b = await io.askSecret('Password again: ');
  if (a !== b) throw new HwError('BAD_ARGS', 'the two passwords differ; nothing changed');
  return a;
}

export async function userCmd(dataDir: string, action: string, name: string | undefined, o: { role?: unknown; passwordStdin?: boolean; json?: boolean }, io: UserIo): Promise<void> {
  // A mistyped --data-dir must not quietly make a second, unused users.json.
  if (!existsSync(dataDir)) throw new HwError('BAD_ARGS', `no manager data folder ${dataDir}: give the manager's --data-dir (or start the manager once)`);
  const store = new UserStore(dataDir);
  const need = () => {
    if (!name) throw new HwError('BAD_ARGS', `user ${action} needs a user name`);
    return checkUserName(name);
  };
  switch (action) {
    case 'add': {
      const n = need();
      const role = checkRole(o.role ?? 'viewer');
      if (store.get(n)) throw new HwError('USER_EXISTS', `user ${n} exists already: \`manager user passwd ${n}\` sets a new password`);
      await store.add(n, role, await newPassword(o, io));
      io.out(`added ${n} (${role})`);
      return;
    }
    case 'passwd': {
      const n = need();
      if (!store.get(n)) throw new HwError('USER_NOT_FOUND', `no user ${n} (see \`manager user list\`)`);
      await store.passwd(n, await newPassword(o, io));
      io.out(`new password for ${n}; their open sessions are signed out`);
      return;
    }
    case 'remove': {
      const n = need();
      store.remove(n);
      io.out(`removed ${n}; their open sessions are signed out`);
      return;
    }
    case 'list': {
      const list = store.list().map((u) => ({ name: u.name, role: u.role, createdAt: u.createdAt }));
      if (o.json) io.out(JSON.stringify(list, null, 2));
      else io.out(list.length ? list.map((u) => `${u.name.padEnd(24)} ${u.role.padEnd(7)} since ${u.createdAt.slice(0, 10)}`).join('\n') : 'no dashboard users: add one with `manager user add <name> --role admin`');
      return;
    }
    default:
      throw new HwError('BAD_ARGS', `unknown user action "${action}": add, list, remove or passwd`);
  }
}

/** POST /api/web/login-links on the running manager's API. */
export function loginLinkCmd(api: { host: string; port: number }, token: string, user: string | undefined, io: UserIo, timeoutMs = CLIENT_RESPONSE_TIMEOUT_MS): Promise<void> {
  const body = Buffer.from(JSON.stringify(user === undefined ? {} : { user }));
  return new Promise((resolve, reject) => {
    const req = request({
      host: api.host, port: api.port, method: 'POST', path: '/api/web/login-links',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      // A login link answer is a few hundred bytes: one far bigger is not read on.
      res.on('data', (d) => {
        text += d;
        if (text.length > 64 * 1024) res.destroy(new HwError('INTERNAL', 'control API answer over 64 KiB'));
      });
      res.on('error', reject);
      res.on('end', () => {
        try {
          const v = JSON.parse(text);
          if ((res.statusCode ?? 500) >= 400) throw new HwError(v?.error?.code ?? 'INTERNAL', v?.error?.message ?? `HTTP ${res.statusCode}`);
          io.out(`${v.url}\n(valid until ${v.expiresAt}, once${user ? `, signs in as ${user}` : ', signs in as the console\'s administrator'})`);
          resolve();
        } catch (err) {
          reject(err instanceof HwError ? err : new HwError('INTERNAL', `control API answered ${res.statusCode} with something that is not JSON`));
        }
      });
    });
    // Like every client command: a manager that sends nothing for --timeout is a TIMEOUT (exit 6).
    req.setTimeout(timeoutMs, () => req.destroy(new HwError('TIMEOUT', `the manager sent nothing for ${timeoutMs / 1000} s (POST /api/web/login-links)`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof HwError ? err : new HwError('API_UNREACHABLE', err.code === 'ECONNREFUSED'
      ? `no manager answers on ${api.host}:${api.port}: is it running? (--api and --data-dir must match the manager's)` : `control API ${api.host}:${api.port}: ${err.message}`)));
    req.end(body);
  });
}

/** A terminal prompt with echo off, for passwords. */
export function askSecretOnTerminal(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new HwError('CANCELLED', 'cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readAllStdin(): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 64 * 1024) throw new HwError('BAD_ARGS', '--password-stdin: over 64 KiB on standard input');
    parts.push(c);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Registers `user` and `login-link` on the manager's CLI. */
export function registerUserCommands(cli: CAC, api: (o: { api?: unknown; dataDir: string; timeout?: unknown }) => { hp: { host: string; port: number }; token: string; timeoutMs?: number }): void {
  const io = (): UserIo => ({
    out: (t) => process.stdout.write(inertText(t) + '\n'),
    ...(process.stdin.isTTY ? { askSecret: askSecretOnTerminal } : {}),
    readStdin: readAllStdin,
  });
  cli.command('user <action> [name]', 'Dashboard users: add <name> --role admin|viewer, list, remove <name>, passwd <name>')
    .option('--role <role>', 'admin (runs commands) or viewer (sees everything, runs nothing)', { default: 'viewer' })
    .option('--password-stdin', 'Read the password from the first line of standard input (scripts)')
    .option('--json', 'JSON output (list)')
    .example('manager user add alice --role admin')
    .example('printf "%s\\n" "$PW" | manager user add ci --role viewer --password-stdin')
    .action((action, name, o) => userCmd(String(last(o.dataDir)), String(action), name === undefined ? undefined : String(name), { role: last(o.role), passwordStdin: !!o.passwordStdin, json: !!o.json }, io()));
  cli.command('login-link', 'A one-time dashboard sign-in link from the running manager (valid 10 minutes, once)')
    .option('--user <name>', 'Sign in as this dashboard user (default: the console\'s administrator)')
    .action((o) => {
      const { hp, token, timeoutMs } = api(o);
      const user = o.user === undefined ? undefined : String(last(o.user));
      return loginLinkCmd(hp, token, user, io(), timeoutMs);
    });
}

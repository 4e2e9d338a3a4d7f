// `manager install-command`: a new host's one-line install (downloaded from the dashboard's HTTPS
// listener, key pinned, sha256 checked, enrolled with a one-use token that expires); --list and
// --revoke <id> for the tokens.

import type { CAC } from 'cac';
import { HwError } from '../errors.ts';
import type { HttpClient } from './client.ts';
import { table } from './format.ts';
import type { Io } from './io.ts';
import { last } from './run.ts';

type ClientOf = (opts: { api?: unknown; dataDir: string; timeout?: unknown }) => HttpClient;

export async function installCommandCmd(c: HttpClient, o: Record<string, unknown>, io: Io): Promise<void> {
  const str = (v: unknown, flag: string) => {
    if (v === undefined) return undefined;
    if (v === true || v === '') throw new HwError('BAD_ARGS', `${flag} needs a value`);
    return String(v);
  };
  if (o.list) {
    const rows = await c.installTokens();
    if (o.json) return io.out(JSON.stringify(rows, null, 2));
    // The agent that used a token by its name, as `agents` shows it (the id stays in --json).
    const names = new Map(rows.some((r) => r.usedBy) ? (await c.agents()).map((a) => [String(a.id), String(a.name)]) : []);
    const usedBy = (id: string | undefined) => (id === undefined ? '' : names.has(id) ? `${names.get(id)} (${id.slice(0, 8)})` : id.slice(0, 8));
    io.out(rows.length
      ? table([['ID', 'STATE', 'OS', 'ARCH', 'LABELS', 'EXPIRES', 'BY', 'USED BY'], ...rows.map((r) => [r.id, r.state, r.os, r.arch, r.labels.join(',') || '-', r.expiresAt, r.by, usedBy(r.usedBy)])])
      : 'no install tokens (manager install-command makes one)');
    return;
  }
  const revoke = str(last(o.revoke), '--revoke');
  if (revoke !== undefined) {
    const r = await c.revokeInstallToken(revoke);
    io.out(o.json ? JSON.stringify(r) : `install token ${r.id} revoked: its command no longer enrolls`);
    return;
  }
  const labels = o.label === undefined ? [] : [o.label].flat().map((l) => str(l, '--label')!);
  const ttl = str(last(o.ttl), '--ttl');
  const os = str(last(o.os), '--os');
  const arch = str(last(o.arch), '--arch');
  const address = str(last(o.managerAddress), '--manager-address');
  const a = await c.installCommand({ ...(os ? { os } : {}), ...(arch ? { arch } : {}), labels, ...(ttl ? { ttl } : {}), ...(address ? { address } : {}), ...(o.allowUpgrade ? { allowUpgrade: true } : {}) });
  if (o.json) return io.out(JSON.stringify(a, null, 2));
  io.err(`# Run on the new ${a.os} ${a.arch} host ${a.runAs}. One use; expires ${a.expiresAt} (token ${a.tokenId}: manager install-command --revoke ${a.tokenId}).`);
  io.err(`# It downloads ${a.url} (${a.os === 'windows' ? `the certificate pinned by its SHA-1 thumbprint ${a.thumbprint}` : `the key pinned: ${a.pin}`}; sha256 ${a.sha256}) and runs \`agent install\`.`);
  io.out(a.command);
}

export function registerInstallCommands(cli: CAC, client: ClientOf, io: () => Io): void {
  cli.command('install-command', 'Print the one command that installs the agent on a new host (downloaded from the dashboard, pinned, sha256 checked, enrolled with a one-use token)')
    .option('--os <linux|windows>', 'The new host\'s system (default linux)')
    .option('--arch <x64|arm64>', 'Its architecture (default x64)')
    .option('--label <name=value>', 'A label for the new agent (repeatable)')
    .option('--ttl <duration>', 'How long the token can enroll (default 24h; 1s to 30d)')
    .option('--manager-address <host>', 'The name or address the new host reaches this manager by (default: the --web and --host address, else this host\'s first IPv4)')
    .option('--allow-upgrade', 'The installed agent may be upgraded from this manager (`manager upgrade`): signed executables only, the upgrade key pinned at its first welcome')
    .option('--list', 'List the install tokens: unused, used (by which agent), expired')
    .option('--revoke <id>', 'Revoke an install token: its command no longer enrolls')
    .option('--json', 'JSON output')
    .example('manager install-command --label role=web --ttl 2h')
    .example('manager install-command --label role=web --allow-upgrade')
    .example('manager install-command --os windows --manager-address mgr.example.lan')
    .action((o) => installCommandCmd(client(o), o, io()));
}

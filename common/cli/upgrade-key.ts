// `manager upgrade-key create|show|sign`: local commands on the data folder (no running manager
// needed), so the signing key can live on another machine than the manager.

import type { CAC } from 'cac';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { checkExeTarget, exeTarget } from '../security/exe-format.ts';
import {
  createUpgradeKey, loadPrivateKey, parsePublicKey, publicKeyBase64, signExecutable, UPGRADE_KEY_FILE, UPGRADE_PUB_FILE,
} from '../security/upgrade-sign.ts';
import { last } from './run.ts';

/** Asks an executable built for this host its version (`<exe> --version`; a .mjs/.js through node). */
export function askVersion(exe: string): Promise<string> {
  const [cmd, args] = /\.(mjs|cjs|js)$/.test(exe) ? [process.execPath, [exe, '--version']] : [exe, ['--version']];
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15_000, env: { ...process.env, NODE_OPTIONS: '' } }, (err, stdout) => {
      const v = /^\S+/.exec(String(stdout).trim().split('\n').pop()?.replace(/^\S+\//, '') ?? '')?.[0];
      if (err || !v) reject(new HwError('BAD_ARGS', `cannot ask ${exe} its version (${err ? err.message.split('\n')[0] : 'no output'}): give --agent-version`));
      else resolve(v);
    });
  });
}

export async function upgradeKeyCmd(dataDir: string, action: string, exe: string | undefined, o: Record<string, unknown>, out: (s: string) => void): Promise<void> {
  switch (action) {
    case 'create': {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const { keyFile, publicKey } = createUpgradeKey(dataDir);
      out(`created ${keyFile} (keep it secret; it can live off the manager: sign with --key)\npublic key: ${publicKeyBase64(publicKey)}\n`);
      return;
    }
    case 'show': {
      const pub = join(dataDir, UPGRADE_PUB_FILE);
      if (!existsSync(pub)) throw new HwError('UPGRADE_NO_KEY', `no upgrade key in ${dataDir}: make one with \`manager upgrade-key create\``);
      const text = readFileSync(pub, 'utf8');
      out(o.pem ? text : `${publicKeyBase64(parsePublicKey(text))}\n`);
      return;
    }
    case 'sign': {
      if (!exe) throw new HwError('BAD_ARGS', 'upgrade-key sign needs the executable: manager upgrade-key sign ./agent-linux-x64');
      const key = loadPrivateKey(o.key !== undefined ? String(last(o.key)) : join(dataDir, UPGRADE_KEY_FILE));
      const header = exeTarget(exe); // also says a missing file before the key is used
      const platform = o.platform !== undefined ? String(last(o.platform)) : header?.platform ?? process.platform;
      const arch = o.arch !== undefined ? String(last(o.arch)) : header?.arch ?? process.arch;
      checkExeTarget(exe, { platform, arch });
      let version = o.agentVersion !== undefined ? String(last(o.agentVersion)) : undefined;
      if (version === undefined) {
        if (platform !== process.platform || arch !== process.arch) throw new HwError('BAD_ARGS', `${exe} is for ${platform}-${arch}, not this host: give --agent-version`);
        version = await askVersion(exe);
      }
      const s = await signExecutable(exe, key, { platform, arch, version });
      out(o.json ? `${JSON.stringify(s)}\n` : `wrote ${exe}.sig: ${s.manifest.platform}-${s.manifest.arch} version ${s.manifest.version}, ${s.manifest.size} bytes, sha256 ${s.manifest.sha256}\n`);
      return;
    }
    default:
      throw new HwError('BAD_ARGS', `upgrade-key ${action}: expected create, show or sign <executable>`);
  }
}

export function registerUpgradeKeyCommands(cli: CAC): void {
  cli.command('upgrade-key <create|show|sign> [executable]', 'The Ed25519 key agents trust for upgrades: create it (in --data-dir, once), show its public key, sign an agent executable (writes <executable>.sig)')
    .option('--key <file>', 'sign: the private key (default: <data-dir>/upgrade-key.pem)')
    .option('--pem', 'show: PEM instead of one line of base64')
    .option('--platform <os>', 'sign: the executable\'s OS, as Node names it (linux, win32; default: read from its ELF or PE header, else this host\'s)')
    .option('--arch <arch>', 'sign: its architecture (x64, arm64; default: read from its header, else this host\'s)')
    .option('--agent-version <v>', 'sign: its version (default: asked from the executable with --version)')
    .option('--json', 'sign: the signed manifest as JSON')
    .example('manager upgrade-key create')
    .example('manager upgrade-key sign ./agent-linux-x64')
    .example('manager upgrade-key sign ./agent-win-x64.exe --agent-version 0.2.0 --key /secure/upgrade-key.pem')
    .action((action, exe, o) => upgradeKeyCmd(String(last(o.dataDir)), String(action), exe === undefined ? undefined : String(exe), o, (s) => process.stdout.write(s)));
}

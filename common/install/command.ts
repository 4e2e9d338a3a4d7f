// The one command a new host runs to install the agent: download it from the dashboard's HTTPS
// listener with the listener's key pinned, check its sha256, then `agent install` with a one-use
// enrollment token. Linux: sh with curl and sha256sum; Windows: one PowerShell line.

import { createHash, X509Certificate } from 'node:crypto';
import type { InstallArch, InstallOs } from './dist.ts';

/** curl's --pinnedpubkey form: sha256// and the base64 sha256 of the certificate's public key (SPKI, DER). */
export function spkiPin(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256//${createHash('sha256').update(der).digest('base64')}`;
}

/** What Windows calls the certificate's thumbprint: its SHA-1, hex, upper case, no colons. */
export function thumbprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint.replace(/:/g, '').toUpperCase();
}

export interface CommandParts {
  os: InstallOs;
  arch: InstallArch;
  /** https://host:port/dist/agent-... */
  url: string;
  sha256: string;
  /** the dashboard certificate's, for the download */
  pin: string;
  thumbprint: string;
  /** what the agent connects to, host[:port] */
  manager: string;
  /** the manager's agent-listener fingerprint (sha256 hex), pinned by the agent */
  managerFingerprint: string;
  udpPort?: number;
  token: string;
  labels: string[];
  /** the service runs with --allow-upgrade: the manager may replace the executable (signed) */
  allowUpgrade?: boolean;
}

/** The agent-install arguments both platforms pass (the token file's path comes last). */
function installArgs(p: CommandParts): string[] {
  return ['install', '--manager', p.manager, ...(p.udpPort ? ['--udp-port', String(p.udpPort)] : []), '--manager-fingerprint', p.managerFingerprint,
    ...p.labels.flatMap((l) => ['--label', l]), ...(p.allowUpgrade ? ['--allow-upgrade'] : [])];
}

/** A word for sh: as is when plainly safe, else single-quoted. */
export function shWord(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const psWord = (s: string) => `'${s.replace(/'/g, "''")}'`;

export function installCommand(p: CommandParts): string {
  return p.os === 'windows' ? windowsCommand(p) : linuxCommand(p);
}

/**
 * Run as root. The token goes through a file made with umask 077 by the shell's own printf (a
 * builtin: never in `ps`); -k because the certificate is self-signed, the pin is what is checked.
 */
function linuxCommand(p: CommandParts): string {
  return [
    'd=$(mktemp -d)',
    `curl -fsS -k --pinnedpubkey ${shWord(p.pin)} -o "$d/agent" ${shWord(p.url)}`,
    `echo ${shWord(`${p.sha256}  `)}"$d/agent" | sha256sum -c --quiet -`,
    'chmod 700 "$d/agent"',
    `(umask 077; printf %s ${shWord(p.token)} > "$d/token")`,
    `"$d/agent" ${installArgs(p).map(shWord).join(' ')} --enroll-token-file "$d/token"`,
    'rm -rf "$d"',
  ].join(' && ');
}

/** For an elevated PowerShell (Windows PowerShell 5.1, on every Windows). */
function windowsCommand(p: CommandParts): string {
  return [
    "$ErrorActionPreference='Stop'",
    '[Net.ServicePointManager]::SecurityProtocol=[Net.SecurityProtocolType]::Tls12',
    `[Net.ServicePointManager]::ServerCertificateValidationCallback={param($s,$c) $c.GetCertHashString() -eq ${psWord(p.thumbprint)}}`,
    "$d=Join-Path $env:TEMP ('hostwatch-'+[guid]::NewGuid())",
    'New-Item -ItemType Directory $d | Out-Null',
    "$f=Join-Path $d 'agent.exe'",
    `Invoke-WebRequest -UseBasicParsing ${psWord(p.url)} -OutFile $f`,
    `if ((Get-FileHash -Algorithm SHA256 $f).Hash -ne ${psWord(p.sha256.toUpperCase())}) { throw 'sha256 mismatch: not the agent the manager serves' }`,
    "$t=Join-Path $d 'token'",
    `[IO.File]::WriteAllText($t, ${psWord(p.token)})`,
    `& $f ${installArgs(p).map(psWord).join(' ')} --enroll-token-file $t`,
    'Remove-Item -Recurse -Force $d',
  ].join('; ');
}

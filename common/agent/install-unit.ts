// The systemd unit `agent install` writes: scripts/hostwatch-agent.service's directives (a test
// checks that none is missing), with this host's command line.

export const UNIT_NAME = 'hostwatch-agent.service';

/** One ExecStart word: plain, or double-quoted with \ and " escaped; % doubled (systemd specifiers). */
export function unitWord(s: string): string {
  const w = s.replace(/%/g, '%%');
  return /^[A-Za-z0-9_./:=@+,-]+$/.test(w) ? w : `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function systemdUnit(exec: string, args: string[], stateDir: string): string {
  const exeDir = exec.slice(0, exec.lastIndexOf('/')) || '/';
  return `# Written by \`hostwatch-agent install\`; removed by \`hostwatch-agent uninstall\`.
[Unit]
Description=hostwatch agent (reports this host to a hostwatch manager)
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=${[exec, ...args].map(unitWord).join(' ')}
Restart=always
RestartSec=5
# Creates ${stateDir} (the agent's id, key, pinned managers and unsent alerts).
StateDirectory=${stateDir.replace(/^\/var\/lib\//, '')}
StateDirectoryMode=0700
WorkingDirectory=${stateDir}
# Hardening that leaves the features working: no PrivateTmp or ProtectHome, so a --files-root there
# still works; no MemoryDenyWriteExecute, which V8's JIT needs.
NoNewPrivileges=yes
ProtectSystem=full
# /usr is read-only but for the executable's own folder, where an upgrade is written beside it
# and renamed over it (agent --allow-upgrade).
ReadWritePaths=${exeDir}
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
LockPersonality=yes

[Install]
WantedBy=multi-user.target
`;
}

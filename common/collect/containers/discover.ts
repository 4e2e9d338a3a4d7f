// Where the container engine listens, found as the engines' own clients find it: DOCKER_HOST, then
// Podman's CONTAINER_HOST, then the default sockets. Only unix sockets: a tcp:// engine would need
// the agent to hold TLS client keys for it, and one on the network is not this host's.

import { HwError } from '../../errors.ts';

export interface EngineEnv {
  DOCKER_HOST?: string | undefined;
  CONTAINER_HOST?: string | undefined;
  XDG_RUNTIME_DIR?: string | undefined;
}

export interface SocketCandidate {
  path: string;
  /** why this one is tried: "DOCKER_HOST", "default Docker socket"... */
  from: string;
}

export const DEFAULT_SOCKETS: readonly SocketCandidate[] = [
  { path: '/var/run/docker.sock', from: 'default Docker socket' },
  { path: '/run/podman/podman.sock', from: 'default Podman socket' },
];

/**
 * The sockets to try, in order. A DOCKER_HOST or CONTAINER_HOST that is set is the only one tried
 * (as docker and podman do: an explicit setting is not second-guessed); tcp:// and ssh:// are
 * refused with ENGINE_UNREACHABLE and the reason.
 */
export function socketCandidates(env: EngineEnv): SocketCandidate[] {
  for (const name of ['DOCKER_HOST', 'CONTAINER_HOST'] as const) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    if (v.startsWith('unix://')) {
      let path = v.slice('unix://'.length);
      // Podman's client reads unix://run/podman/podman.sock (its man page's form) as /run/...;
      // Docker's would take it relative to its folder, which an agent's is not.
      if (name === 'CONTAINER_HOST' && path !== '' && !path.startsWith('/')) path = `/${path}`;
      if (!path.startsWith('/')) throw new HwError('ENGINE_UNREACHABLE', `${name}=${v}: the socket path must be absolute`);
      return [{ path, from: name }];
    }
    if (v.startsWith('/')) return [{ path: v, from: name }];
    throw new HwError('ENGINE_UNREACHABLE', `${name}=${v.slice(0, 200)}: only unix:// sockets are read (a tcp:// or ssh:// engine is not this host's local engine; point ${name} at its unix socket)`);
  }
  const out = [...DEFAULT_SOCKETS];
  if (env.XDG_RUNTIME_DIR) out.push({ path: `${env.XDG_RUNTIME_DIR}/podman/podman.sock`, from: 'rootless Podman socket ($XDG_RUNTIME_DIR)' });
  return out;
}

/** Words for a failed connect, by errno. */
export function whyUnreachable(code: string | undefined): string {
  switch (code) {
    case 'ENOENT': return 'ENOENT (no such socket: no engine there)';
    case 'EACCES': return 'EACCES (permission denied: run the agent as root or in the docker group)';
    case 'ECONNREFUSED': return 'ECONNREFUSED (socket file left, engine not running)';
    case 'ENOTSOCK': return 'ENOTSOCK (not a socket)';
    default: return code ?? 'unknown error';
  }
}

// Keeps credentials out of what is shown and recorded: a URL cut down to where it goes, and error
// text scrubbed of URL user info, Authorization values, bearer tokens and secrets the caller names.

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/**
 * `scheme://host:port` and nothing else: no user info, path, query or fragment (a webhook's path,
 * a query's token and a password in the user info are all secrets). Not a URL: a placeholder.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(bad URL)';
  }
  const port = u.port || DEFAULT_PORTS[u.protocol] || '';
  return `${u.protocol}//${u.hostname}${port ? `:${port}` : ''}`;
}

/** Query parameter names whose values are credentials. */
const SECRET_PARAM = /(token|secret|passw|pwd|key|sig|auth|credential|session)/i;

/**
 * The URL as an administrator may see it: where it goes and its path, with the password of the
 * user info and credential-like query values replaced by `***`.
 */
export function maskUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return maskUserinfo(url);
  }
  if (u.password) u.password = '***';
  for (const [k] of [...u.searchParams]) if (SECRET_PARAM.test(k)) u.searchParams.set(k, '***');
  return u.toString();
}

/** `scheme://user:pass@` anywhere in a text becomes `scheme://***@`. */
function maskUserinfo(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1***@');
}

export interface ScrubOptions {
  /** destination URLs: their user info, path and query are taken out wherever they appear */
  urls?: string[];
  /** literal values that must never show (a webhook secret, header values) */
  secrets?: string[];
}

/**
 * Error text fit to record and return to anyone: without URL user info, `Authorization:` and
 * `Bearer` values, and without the secrets and the secret parts of the URLs given. The secrets are
 * replaced longest first, so a path that contains a shorter secret is still hidden whole.
 */
export function scrubSecrets(text: string, o: ScrubOptions = {}): string {
  const swap = new Map<string, string>();
  for (const s of o.secrets ?? []) if (s.length >= 4) swap.set(s, '***');
  for (const url of o.urls ?? []) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      continue;
    }
    // The whole URL, as given or as normalised, still says where it went.
    for (const whole of [url, u.toString(), u.href.replace(/\/$/, '')]) if (whole.length > 0) swap.set(whole, `${redactUrl(url)}/…`);
    for (const part of [u.username, u.password, decoded(u.password), u.search.slice(1)]) if (part.length >= 4) swap.set(part, '***');
    // The path of a chat webhook is its secret; "/" or a short one like /hook is not worth it.
    const path = u.pathname.replace(/\/+$/, '');
    if (path.length >= 6) for (const p of [path, decoded(path)]) swap.set(p, '/***');
  }
  let out = text;
  for (const s of [...swap.keys()].sort((a, b) => b.length - a.length)) out = out.split(s).join(swap.get(s)!);
  out = maskUserinfo(out);
  out = out.replace(/\b(authorization|proxy-authorization)("?\s*[:=]\s*)("?)(?:(basic|bearer|token|digest)\s+)?[^\s",;]+/gi, (_m, h: string, sep: string, q: string, scheme?: string) => `${h}${sep}${q}${scheme ? `${scheme} ` : ''}***`);
  out = out.replace(/\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi, '$1 ***');
  return out;
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

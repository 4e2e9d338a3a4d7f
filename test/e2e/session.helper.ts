// A dashboard session opened through the sign-in API, as the browser does: its cookie and its CSRF
// token, for tests that call the API as a viewer or an admin without a browser.

import { request } from 'node:http';

export async function session(port: number, user: string, password: string): Promise<{ cookie: string; csrf: string }> {
  const r = await new Promise<{ cookie: string; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/web/sign-in', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ cookie: String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]!, body }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ username: user, password }));
  });
  return { cookie: r.cookie, csrf: JSON.parse(r.body).csrf };
}

/** The headers of a session's requests. */
export async function sessionHeaders(port: number, user: string, password: string): Promise<Record<string, string>> {
  const s = await session(port, user, password);
  return { cookie: s.cookie, 'x-csrf-token': s.csrf };
}

/** A GET of the API with these headers (a session's, a bearer token's): its status and its JSON body. */
export function getJson(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

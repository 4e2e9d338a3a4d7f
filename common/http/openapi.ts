// The API reference, generated from the route table (served at GET /api/openapi.json and written
// to docs/api.md by `npm run docs`), so it cannot drift from what the listeners serve.

import { VERSION } from '../version.ts';
import type { Access, Route } from './route-table.ts';

const WHO: Record<Access, string> = {
  public: 'anyone', viewer: 'viewer, admin or API token', admin: 'admin or API token', token: 'API token only', metrics: 'metrics token (off loopback)',
};

/** An OpenAPI 3.1 document of the routes. */
export function openapi(routes: Route<unknown>[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([a-z]+)/g, '{$1}');
    const params = [...r.path.matchAll(/:([a-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = Object.entries(r.doc?.query ?? {}).map(([name, description]) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } }));
    const body = r.doc?.body ? {
      requestBody: {
        content: { 'application/json': { schema: { type: 'object', properties: Object.fromEntries(Object.entries(r.doc.body).map(([k, description]) => [k, { description }])) } } },
      },
    } : {};
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary, 'x-access': r.access, 'x-surface': r.surface, description: `Who may call it: ${WHO[r.access]}.`,
      ...(params.length || query.length ? { parameters: [...params, ...query] } : {}),
      ...body,
      responses: { 200: { description: r.doc?.answer ? `JSON: ${r.doc.answer}` : r.raw ? 'streamed or a page' : 'JSON' }, default: { description: 'an error: `{ "error": { "code", "message" } }`' } },
      ...(r.access === 'public' ? { security: [] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'hostwatch manager API', version: VERSION },
    components: {
      securitySchemes: {
        token: { type: 'http', scheme: 'bearer', description: 'the contents of <data-dir>/api-token' },
        session: { type: 'apiKey', in: 'cookie', name: 'hw_session', description: 'a dashboard session; state-changing requests also carry x-csrf-token' },
      },
    },
    security: [{ token: [] }, { session: [] }],
    paths,
  };
}

/** The reference as Markdown, one table row a route (docs/api.md). */
export function apiMarkdown(routes: Route<unknown>[]): string {
  const lines = [
    '# API reference',
    '',
    'Generated from the route table (`npm run docs`); the same document is served as OpenAPI at `GET /api/openapi.json`.',
    'A test fails when this page and the table differ.',
    '',
    'Every answer is JSON unless it says otherwise; every error is `{ "error": { "code", "message" } }` with the status its',
    'code maps to. Callers: the API token (`Authorization: Bearer <data-dir>/api-token`), or a dashboard session (cookie;',
    'a POST or DELETE also carries `x-csrf-token`). A viewer reads everything but secrets and runs nothing.',
    '',
    '| method | path | who | what |',
    '|---|---|---|---|',
  ];
  for (const r of routes) {
    const extra = [
      ...Object.entries(r.doc?.query ?? {}).map(([k, v]) => `\`?${k}\`: ${v}`),
      ...Object.entries(r.doc?.body ?? {}).map(([k, v]) => `body \`${k}\`: ${v}`),
      ...(r.doc?.answer ? [`answers ${r.doc.answer}`] : []),
    ];
    const cell = (t: string) => t.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|');
    const what = [r.summary, ...extra].map(cell).join('<br>');
    lines.push(`| ${r.method} | \`${r.path}\` | ${WHO[r.access]} | ${what} |`);
  }
  return lines.join('\n') + '\n';
}

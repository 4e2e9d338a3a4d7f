// `npm run docs`: writes docs/api.md from the route table, so the reference cannot drift from what
// the listeners serve (a test compares the two).
import { writeFileSync } from 'node:fs';
import { apiMarkdown } from '../common/http/openapi.ts';
import { metricsRoutes } from '../common/prom/listener.ts';
import { controlRoutes } from '../common/serve/control.ts';

export function apiReference(): string {
  // The table is built without a running manager: its handlers close over what they are given and
  // run nothing until called.
  const routes = controlRoutes({ manager: undefined as never, config: undefined as never, token: '', dashboard: {} as never, install: { dist: {} as never } });
  return apiMarkdown([...routes, ...metricsRoutes(undefined as never)]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync('docs/api.md', apiReference());
  console.log('wrote docs/api.md');
}

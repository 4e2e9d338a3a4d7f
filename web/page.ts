// What every page is given: who is signed in. Its own file, so the pages and main.ts, which
// routes to them, do not import each other.
import type { Me } from './api.ts';

export interface PageContext {
  me: Me;
}

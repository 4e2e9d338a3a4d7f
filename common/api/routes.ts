// The control API's routes: what the CLI, scripts and the dashboard call. Each entry says who may
// call it and which validator reads its input; the handlers only call the manager. Viewers see
// everything but secrets and run nothing: every POST and DELETE here is admin-only, and so is the
// file download.

import { VERSION } from '../version.ts';
import { HwError } from '../errors.ts';
import { parseRange } from '../history/params.ts';
import { checkMetric, fleetHistory } from '../history/query.ts';
import { select } from './jobs.ts';
import type { Manager } from '../manager/manager.ts';
import { rulesJson } from './rules-view.ts';
import { agentJson, alertJson, historyJson, silenceJson, statsJson } from './json.ts';
import type { ConfigControl } from '../config/control.ts';
import type { Notifier } from '../notify/notifier.ts';
import { route, type Caller, type Route } from '../http/route-table.ts';
import { download } from './download.ts';
import { topFor } from './top-view.ts';
import type { TopProcesses } from './types.ts';
import { followAlerts, jobStream, type StreamLimits } from './streams.ts';
import {
  agentRef, arrival, commandArgs, COMMANDS, containerHistoryQuery, containerRequest, fetchPath, jobRequest, rejectSelection, selection, servicesQuery, silenceRequest, topRequest, upgradeRequest, yes, processQuery,
} from './validate.ts';
import { agentServices } from './services.ts';
import { processHistoryJson } from './process-history.ts';
import { CONTAINER_POINTS_MAX, containerHistoryJson } from './container-history.ts';

export interface ApiDeps {
  manager: Manager;
  /** the config file behind the manager: reload and show */
  config: ConfigControl;
  notifier?: Notifier | undefined;
  streams: StreamLimits;
  /** the routes, for GET /api/openapi.json (set once the whole table is built) */
  openapi?: () => unknown;
}

const viewer = 'viewer' as const;
const admin = 'admin' as const;
const api = 'api' as const;

export function apiRoutes(d: ApiDeps): Route<unknown>[] {
  const m = d.manager;
  const agentParam = ({ params }: { params: Record<string, string> }) => agentRef(params.agent);
  return [
    route({ method: 'GET', path: '/api/version', access: viewer, surface: api, summary: 'the manager\'s version', handle: () => ({ version: VERSION }) }),
    route({
      method: 'GET', path: '/api/stats', access: viewer, surface: api, summary: 'counters: reports and alerts ingested, agents online, loop delay, notification queues',
      handle: ({ caller }) => ({ ...statsJson(m.figures()), notify: d.notifier?.status({ redact: caller.role !== 'admin' }) ?? null }),
    }),
    route({
      method: 'GET', path: '/api/openapi.json', access: viewer, surface: api, summary: 'this reference as an OpenAPI 3.1 document',
      handle: () => d.openapi?.() ?? {},
    }),
    route({ method: 'GET', path: '/api/agents', access: viewer, surface: api, summary: 'every agent (the `agents --json` shape)', handle: () => m.state.agents().map(agentJson) }),
    route({
      method: 'GET', path: '/api/agents/:agent', access: viewer, surface: api, summary: 'one agent, with its interfaces', input: agentParam,
      handle: ({ input }) => {
        const rec = m.state.find(input, true);
        return { ...agentJson(rec), interfaces: rec.interfaces };
      },
    }),
    route({
      method: 'GET', path: '/api/agents/:agent/history', access: viewer, surface: api, summary: 'an agent\'s samples over a time range, from the finest tier that holds it',
      doc: { query: { from: 'start (ISO 8601 or ms; `since` is the same)', to: 'end (default now)', points: 'at most this many points', series: '`all` for every mount and interface' } },
      input: (i) => ({ ref: agentRef(i.params.agent), range: parseRange(i.query, m.now()) }),
      handle: ({ input }) => historyJson(m, m.state.find(input.ref), input.range),
    }),
    route({
      method: 'GET', path: '/api/agents/:agent/processes', access: viewer, surface: api,
      summary: 'the agent\'s top processes by CPU and by memory: the minute nearest `at`, or each minute from `from` to `to` (command lines for admins only)',
      doc: { query: { at: 'a time (ms or ISO 8601): the minute kept nearest it, within 15 min', from: 'start (default: an hour before `to`)', to: 'end (default now); at most 240 minutes, the newest' } },
      input: (i) => ({ ref: agentRef(i.params.agent), q: processQuery(i.query, m.now()) }),
      handle: ({ input, caller }) => processHistoryJson(m, m.state.find(input.ref), input.q, caller.role === 'admin'),
    }),
    route({
      method: 'GET', path: '/api/history', access: viewer, surface: api, summary: 'one metric for every agent, on one time grid',
      doc: { query: { metric: 'cpuPercent, memPercent, diskPercent, ... or mount:<path>:usedPercent, if:<name>:rxRate', from: 'start', to: 'end', points: 'at most this many points' } },
      input: (i) => ({ metric: checkMetric(i.query.get('metric') ?? ''), range: parseRange(i.query, m.now()) }),
      handle: ({ input }) => fleetHistory(m.history, m.state.agents().map((a) => ({ id: a.id, name: a.name })), input.metric, input.range),
    }),
    route({
      method: 'POST', path: '/api/agents/:agent/accept', access: admin, surface: api, summary: 'trust a pending agent', input: agentParam,
      handle: ({ input, caller }) => [agentJson(m.accept(input, caller.who))],
    }),
    route({
      method: 'POST', path: '/api/agents/:agent/revoke', access: admin, surface: api, summary: 'forget an agent\'s key and refuse it from now on', input: agentParam,
      handle: ({ input, caller }) => agentJson(m.revoke(input, caller.who)),
    }),
    route({
      method: 'GET', path: '/api/agents/:agent/fetch', access: admin, surface: api, raw: true,
      summary: 'a file from the agent (within its --files-root); the sha256 or the error comes in the trailers x-sha256, x-error-code',
      doc: { query: { path: 'the file on the agent' } },
      input: (i) => ({ ref: agentRef(i.params.agent), path: fetchPath(i.query.get('path') ?? '') }),
      handle: ({ input, req, res, caller }) => download(m, input.ref, input.path, req, res, caller.who),
    }),
    // top is a GET (below), open to viewers without command lines; it is in COMMANDS for jobs.
    ...COMMANDS.filter((c) => c !== 'top').map((cmd) => route({
      method: 'POST', path: `/api/agents/:agent/${cmd}`, access: admin, surface: api,
      summary: {
        status: 'the agent\'s full status now', procs: 'the agent\'s process count now', logs: 'the newest lines of the host\'s system log', restart: 'restart the host (only where the agent allows it)',
      }[cmd],
      doc: cmd === 'logs' ? { body: { lines: 'how many lines (default 50)' } } : {},
      input: async (i) => ({ ref: agentRef(i.params.agent), args: commandArgs(cmd, await i.body()) }),
      handle: async ({ input, caller }) => (await m.command(input.ref, cmd, input.args, caller.who)) ?? {},
    })),
    // Containers: the list to viewers; logs only to admins (they often hold secrets: tokens, URLs
    // with passwords, request bodies), restart to admins (audited, and only where the agent allows it).
    route({
      method: 'GET', path: '/api/agents/:agent/containers', access: viewer, surface: api, summary: 'the host\'s containers now: state, health, restarts, CPU, memory, I/O',
      input: (i) => containerRequest('containers', i.params.agent, {}),
      handle: async ({ input, caller }) => m.command(input.ref, 'containers', input.args, caller.who),
    }),
    route({
      method: 'GET', path: '/api/agents/:agent/containers/history', access: viewer, surface: api,
      summary: 'each container\'s CPU, memory (and limit), network and block I/O rates, state and health over a span, as the agent\'s samples carried them (the busiest named, the rest summed as `other`)',
      doc: { query: {
        since: 'start: a time (ms or ISO 8601) or a duration back from `to` (30m, 6h, 2d); default 1h (`from` is the same)', to: 'end (default now)',
        container: 'only this container (its name)',
      }, answer: `at most ${CONTAINER_POINTS_MAX} points: a longer span in periods of whole minutes (\`stepMs\`), each the mean of its records, with the state and health seen worst in it` },
      input: (i) => ({ ref: agentRef(i.params.agent), q: containerHistoryQuery(i.query, m.now()) }),
      handle: ({ input }) => containerHistoryJson(m.containerHistory, m.state.find(input.ref), input.q),
    }),
    route({
      method: 'GET', path: '/api/agents/:agent/containers/:name/logs', access: admin, surface: api, summary: 'a container\'s newest log lines (admin only: logs often hold secrets)',
      doc: { query: { lines: 'how many lines (default 200, at most 1000)' } },
      input: (i) => containerRequest('container-logs', i.params.agent, { name: i.params.name, lines: i.query.get('lines') }),
      handle: async ({ input, caller }) => m.command(input.ref, 'container-logs', input.args, caller.who),
    }),
    route({
      method: 'POST', path: '/api/agents/:agent/containers/:name/restart', access: admin, surface: api, summary: 'restart a container (only where the agent runs with --allow-container-restart)',
      input: (i) => containerRequest('container-restart', i.params.agent, { name: i.params.name }),
      handle: async ({ input, caller }) => m.command(input.ref, 'container-restart', input.args, caller.who),
    }),
    route({
      method: 'GET', path: '/api/agents/:agent/services', access: viewer, surface: api,
      summary: 'the host\'s services now (systemd units, Windows services), asked from the agent; SERVICES_UNAVAILABLE where it cannot list them, AGENT_TOO_OLD for an agent without them',
      doc: { query: { failed: '1: only the failed ones' } },
      input: (i) => ({ ref: agentRef(i.params.agent), args: servicesQuery(i.query) }),
      handle: ({ input, caller }) => agentServices(m, input.ref, input.args, caller.who),
    }),
    route({
      method: 'GET', path: '/api/agents/:agent/top', access: viewer, surface: api, summary: 'the host\'s processes now, like top (command lines to admins only)',
      doc: { query: { sort: 'cpu, mem or io (default cpu)', n: 'how many (1 to 100, default 20)' } },
      input: (i) => ({ ref: agentRef(i.params.agent), args: topRequest(Object.fromEntries(i.query)) }),
      handle: async ({ input, caller }) => topFor((await m.command(input.ref, 'top', input.args, caller.who)) as TopProcesses, caller.role),
    }),
    route({
      method: 'GET', path: '/api/select', access: viewer, surface: api, summary: 'the agents a selector names',
      doc: { query: { selector: 'a name, id, address, glob or label=value', label: 'label=value', all: '1 for every agent' } },
      input: (i) => selection(Object.fromEntries(i.query)),
      handle: ({ input }) => select(m, input).map(agentJson),
    }),
    route({
      method: 'POST', path: '/api/jobs', access: admin, surface: api, raw: true,
      summary: 'a command on many agents: one JSON line per host as it answers, then a summary line',
      doc: { body: { selector: 'agents (or label, or all: true)', cmd: COMMANDS.join(' | '), args: 'the command\'s arguments', parallel: 'hosts at once (default 10)', timeout: 'seconds per host' } },
      input: async (i) => jobRequest(await i.body()),
      handle: ({ input, caller, req, res }) => jobStream(m, input, caller.who, req, res, d.streams),
    }),
    route({
      method: 'POST', path: '/api/upgrade', access: admin, surface: api, summary: 'upgrade agents to a signed executable, in batches (a rollout; progress in GET /api/upgrade)',
      doc: { body: { selector: 'agents (or label, or all: true)', to: 'absolute path of the agent executable on the manager\'s host, <to>.sig beside it', batch: 'hosts a batch: 5 or 10% (default 10%)', maxFailures: 'failures in a batch that stop the rollout (default 1)' } },
      input: async (i) => upgradeRequest(await i.body()),
      handle: ({ input, caller }) => m.upgrades.start({ targets: select(m, input), file: input.to, batch: input.batch, maxFailures: input.maxFailures, by: caller.who }),
    }),
    route({
      method: 'POST', path: '/api/upgrades/resume', access: admin, surface: api,
      summary: 'go on with a rollout a manager restart interrupted: its pending hosts, once the executable is checked to be unchanged (same sha256)',
      handle: ({ caller }) => m.upgrades.resume(caller.who),
    }),
    route({ method: 'GET', path: '/api/upgrade', access: viewer, surface: api, summary: 'the last rollout: each host\'s step (null when there was none)', handle: () => m.upgrades.status() ?? null }),
    route({ method: 'GET', path: '/api/silences', access: viewer, surface: api, summary: 'silences in force', handle: () => m.silences.active().map(silenceJson) }),
    route({
      method: 'POST', path: '/api/silences', access: admin, surface: api, summary: 'hold back notifications for some agents (alerts are still recorded)',
      doc: { body: { selector: 'agents', for: 'how long: 2h, 1d, or seconds', rule: 'only this rule', reason: 'why' } },
      input: async (i) => silenceRequest(await i.body()),
      handle: ({ input, caller }) => silenceJson(m.silence(input, caller.who)),
    }),
    route({
      method: 'DELETE', path: '/api/silences/:id', access: admin, surface: api, summary: 'end a silence',
      handle: ({ params, caller }) => silenceJson(m.unsilence(params.id!, caller.who)),
    }),
    route({ method: 'GET', path: '/api/rules', access: viewer, surface: api, summary: 'the rules in force', handle: () => rulesJson(m) }),
    route({
      method: 'GET', path: '/api/rules/:agent', access: viewer, surface: api, summary: 'the rules one agent is sent', input: agentParam,
      handle: ({ input }) => rulesJson(m, input),
    }),
    route({
      method: 'GET', path: '/api/limits', access: viewer, surface: api,
      summary: 'the lines the dashboard\'s CPU, memory and disk meters are coloured by: each agent\'s lowest `above` threshold and its rule, disk per mount; each distinct set once (`agents` maps an id to its index in `sets`)',
      handle: () => m.rules.limits(m.state.agents()),
    }),
    route({ method: 'POST', path: '/api/reload', access: admin, surface: api, summary: 'read the config file again', handle: ({ caller }) => d.config.reload(caller.who) }),
    route({ method: 'GET', path: '/api/config', access: viewer, surface: api, summary: 'the effective config (destinations redacted for viewers)', handle: ({ caller }) => configFor(d.config, caller) }),
    route({ method: 'GET', path: '/api/pending', access: viewer, surface: api, summary: 'agents waiting to be accepted', handle: () => m.state.pending().map(agentJson) }),
    route({
      method: 'POST', path: '/api/pending/accept-all', access: admin, surface: api, summary: 'accept every pending agent',
      handle: ({ caller }) => m.acceptAll(caller.who).map(agentJson),
    }),
    route({
      method: 'POST', path: '/api/pending/reject', access: admin, surface: api, summary: 'refuse pending agents\' keys: one, by address, or all (forgotten, disconnected, refused from then on)',
      doc: { body: { agent: 'one pending agent', address: 'every pending agent from this IP or CIDR', all: 'true: every pending agent' } },
      input: async (i) => rejectSelection(await i.body()),
      handle: ({ input, caller }) => m.rejectPending(input, caller.who).map(agentJson),
    }),
    route({
      method: 'GET', path: '/api/alerts', access: viewer, surface: api, summary: 'alerts after arrival number `after`, or those firing now with `active=1`',
      doc: { query: { after: 'arrival number (n) of the last alert seen', active: '1: only the alerts firing now' } },
      input: (i) => ({ after: arrival(i.query.get('after'), 'after'), active: yes(i.query.get('active'), 'active') }),
      handle: ({ input }) => (input.active ? m.state.activeAlerts() : m.state.alerts(input.after)).map(alertJson),
    }),
    route({
      method: 'GET', path: '/api/alerts/follow', access: viewer, surface: api, raw: true, summary: 'alerts after `after`, then each new one, as JSON lines',
      doc: { query: { after: 'arrival number of the last alert seen' } },
      input: (i) => arrival(i.query.get('after'), 'after'),
      handle: ({ input, req, res }) => followAlerts(m, input, req, res, d.streams),
    }),
    route({
      method: 'GET', path: '/api/notify', access: viewer, surface: api, summary: 'Alertmanager and webhook destinations: queued, last success, last error',
      handle: ({ caller }) => notifier(d).status({ redact: caller.role !== 'admin' }),
    }),
    route({
      method: 'POST', path: '/api/notify/test', access: admin, surface: api, summary: 'send a test alert to every destination',
      handle: () => notifier(d).test(),
    }),
  ];
}

function notifier(d: ApiDeps): Notifier {
  if (!d.notifier) throw new HwError('NOT_FOUND', 'no notification destination: start the manager with --alertmanager <url> or --webhook <url>');
  return d.notifier;
}

/** Destinations as scheme://host:port for a viewer; secret values for nobody. */
function configFor(config: ConfigControl, caller: Caller): Record<string, unknown> {
  return config.show({ redact: caller.role !== 'admin' });
}

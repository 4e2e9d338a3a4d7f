// Chat bodies make what an agent supplies inert: Slack gets &, <, > escaped and no mrkdwn,
// Discord markdown and mentions escaped with allowed_mentions empty; the JSON event stays the data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AlertRecord } from '../../common/manager/state.ts';
import { amAlert, describe, discordEscape, inertText, slackEscape, webhookBody, webhookEvent } from '../../common/notify/formats.ts';

const HOSTILE = '<!channel> @everyone **x** \u001b[2J <@U123> [click](http://evil.example) ||spoiler|| `code` # head\n[RESOLVED] fake\u202e';
const alert = (o: Partial<AlertRecord> = {}): AlertRecord => ({
  agent: HOSTILE, agentId: 'id-<@&42>', type: 'DISK_FULL', rule: 'disk_full', state: 'firing', value: 97, threshold: 90,
  labels: { mount: '/data <!here> *y* @here' }, at: 0, seq: 1, n: 1, receivedAt: 0, via: 'tcp', ...o,
});
const agent = { id: 'id-<@&42>', name: HOSTILE, hostname: 'h', address: '10.0.0.1', platform: 'linux' };

/** Discord's reading of escapes: a backslash before punctuation shows that character; ZWSP is invisible. */
const discordShows = (s: string) => s.replace(/\\([^0-9A-Za-z\s])/g, '$1').replace(/\u200b/g, '');

test('Slack: &, < and > as entities, no mrkdwn, one line per part', () => {
  const body = webhookBody(webhookEvent(alert(), agent), 'slack', alert()) as { text: string; mrkdwn: boolean };
  assert.is(body.mrkdwn, false);
  for (const bad of ['<!channel>', '<@U123>', '<!here>', '<@&42>', '<http', '\u001b', '\u202e']) assert.not.ok(body.text.includes(bad), `${JSON.stringify(bad)} in ${body.text}`);
  assert.ok(body.text.includes('&lt;!channel&gt; @everyone **x**'));
  assert.is(body.text.split('\n').length, 2, 'the peer\'s newline does not start a fake line');
  assert.is(slackEscape('a & b < c > d'), 'a &amp; b &lt; c &gt; d');
  assert.is(slackEscape('&lt;'), '&amp;lt;', 'an entity the agent wrote is shown as written');
});

test('Discord: markdown and mentions escaped, allowed_mentions empty, shown as written', () => {
  const body = webhookBody(webhookEvent(alert(), agent), 'discord', alert()) as { content: string; username: string; allowed_mentions: { parse: string[] } };
  assert.equal(body.allowed_mentions, { parse: [] });
  const c = body.content;
  for (const bad of ['@everyone', '@here', '<@U123>', '<@&42>', '\u001b', '\u202e']) assert.not.ok(c.includes(bad), `${JSON.stringify(bad)} in ${c}`);
  // No markdown character of the agent's is left unescaped.
  const agentPart = discordEscape(HOSTILE);
  assert.not.match(agentPart.replace(/\\[^0-9A-Za-z\s]/g, ''), /[*_~`|<>#[\]()\\]/);
  assert.ok(c.includes(agentPart));
  assert.is(c.split('\n').length, 2);
  // What a reader sees is the name, on one line, exactly.
  assert.is(discordShows(discordEscape(HOSTILE)), inertText(HOSTILE));
  assert.ok(discordShows(c).includes(inertText(HOSTILE)));
});

test('Discord: a name at the start of a line opens no list or heading', () => {
  const a = alert({ type: 'AGENT_UP', agent: '1. # - x' });
  const c = (webhookBody(webhookEvent(a, undefined), 'discord', a) as { content: string }).content;
  assert.is(c.split('\n')[1]!.slice(0, 11), '1\\. \\# \\- x');
  assert.is(discordShows(c.split('\n')[1]!).slice(0, 7), '1. # - ');
});

test('Discord: cut at 2000 characters without a dangling escape', () => {
  const a = alert({ agent: '*'.repeat(3000) });
  const c = (webhookBody(webhookEvent(a, undefined), 'discord', a) as { content: string }).content;
  assert.ok(c.length <= 2000);
  assert.not.match(c, /(^|[^\\])(\\\\)*\\$/);
});

test('the JSON event and Alertmanager text keep the data as it is (JSON escapes what it must)', () => {
  const ev = webhookEvent(alert(), agent);
  assert.is(webhookBody(ev, 'json', alert()), ev);
  const back = JSON.parse(JSON.stringify(ev));
  assert.is(back.agent.name, HOSTILE);
  assert.ok(back.summary.includes(HOSTILE));
  assert.ok(describe(alert()).summary.startsWith('disk_full on <!channel>'));
});

test('inertText: controls and bidi overrides replaced, the rest untouched', () => {
  assert.is(inertText('a\nb\tc\u0000d\u007fe\u009bf\u2066g'), 'a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg');
  assert.is(inertText('plain ünïcode ✓'), 'plain ünïcode ✓');
});


test('an alert\'s processes: in the description, an Alertmanager annotation and the webhook event; a name stays inert in chat', () => {
  const a = alert({ type: 'CPU_HIGH_RULE', rule: 'cpu_high', top: [{ pid: 7, name: 'yes', cpuPercent: 99.5, memBytes: 1048576 }, { pid: 8, name: HOSTILE, cpuPercent: null, memBytes: null }] });
  assert.match(describe(a).description, /Top processes: yes \(pid 7\) 99\.5% CPU 1\.0 MiB, /);
  assert.match(amAlert(a, agent, 0).annotations.top_processes!, /^yes \(pid 7\) 99\.5% CPU 1\.0 MiB, [\s\S]* \(pid 8\) \?% CPU \? MiB$/);
  assert.equal(webhookEvent(a, agent).alert.top, a.top);
  const slack = webhookBody(webhookEvent(a, agent), 'slack', a) as { text: string };
  assert.not.match(slack.text, /<!channel>/);
  assert.is(amAlert(alert(), agent, 0).annotations.top_processes, undefined);
});

test.run();

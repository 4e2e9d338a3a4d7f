// The alert sampler and the UDP resend timer: the timer runs only while an alert waits for its
// ack (an agent with nothing to resend does not wake up for it), and comes back with the next one.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AlertQueue } from '../../common/agent/alert-queue.ts';
import type { AlertDatagrams } from '../../common/agent/alert-datagrams.ts';
import { Alerts } from '../../common/agent/alerts.ts';
import { RuleEvaluator, type RuleDecision } from '../../common/agent/rule-eval.ts';
import { cpuRuleFromFlags } from '../../common/rules/rule.ts';
import type { AlertMsg } from '../../common/wire/messages.ts';
import { timed, waitFor } from '../harness.helper.ts';

const test = suite('agent/alerts');

function setup(cpu: () => number | null = () => 10) {
  const sent: AlertMsg[] = [];
  const udp = { send: (a: AlertMsg) => sent.push(a) } as unknown as AlertDatagrams;
  const queue = new AlertQueue({});
  const evaluator = new RuleEvaluator({ intervalMs: () => 20, rules: [cpuRuleFromFlags(80, 0.06)] });
  const alerts = new Alerts({
    queue, evaluator, cpuPercent: cpu, udp: () => udp, udpPort: 1, target: () => ({ host: '127.0.0.1', port: 1 }), link: () => undefined,
    raised: () => {}, log: () => {}, cpuSampleMs: 20, retryMs: 20,
  });
  return { alerts, queue, sent };
}

const decision = (at: number): RuleDecision => ({ rule: 'cpu_high', state: 'firing', severity: 'warning', value: 90, threshold: 80, labels: {}, at });
const retryArmed = (a: Alerts) => (a as unknown as { retryTimer: unknown }).retryTimer !== undefined;

test('resend timer: off with nothing pending, on while an alert waits, off again after the ack', timed(5000, async () => {
  const { alerts, queue, sent } = setup();
  alerts.start({ cpuTimer: false });
  assert.not.ok(retryArmed(alerts));
  alerts.raise([decision(1)]);
  assert.ok(retryArmed(alerts));
  const first = sent.length; // the send at once
  await waitFor(() => sent.length >= first + 2, 3000, 'two resends'); // then every retryMs
  const msg = queue.pending()[0]!;
  alerts.ack(msg.seq, msg.epoch);
  await waitFor(() => !retryArmed(alerts), 3000, 'the timer to stop once nothing is pending');
  const after = sent.length;
  alerts.raise([decision(2)]); // the next alert arms it again
  assert.ok(retryArmed(alerts));
  await waitFor(() => sent.length >= after + 2, 3000, 'resends of the new alert');
  alerts.stop();
  assert.not.ok(retryArmed(alerts));
}));

test('alerts left from before the start are resent from the start', timed(5000, async () => {
  const { alerts, sent } = setup();
  alerts.raise([decision(1)]); // before start(): queued and sent, no timer yet
  assert.not.ok(retryArmed(alerts));
  const n = sent.length;
  alerts.start({ cpuTimer: false });
  assert.ok(retryArmed(alerts));
  await waitFor(() => sent.length > n, 3000, 'a resend');
  alerts.stop();
}));

test('its own 1 s sampler (cpuTimer) still judges every sample and raises', timed(5000, async () => {
  const { alerts, queue } = setup(() => 95);
  alerts.start();
  await waitFor(() => queue.pending().length > 0, 3000, 'CPU_HIGH from the sampler');
  assert.is(queue.pending()[0]!.rule, 'cpu_high');
  alerts.stop();
}));

test.run();

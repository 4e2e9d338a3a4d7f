import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LogDecoder } from '../../../common/collect/containers/log-stream.ts';
import { HwError } from '../../../common/errors.ts';

const test = suite('collect/containers/log-stream');

function frame(stream: number, text: string): Buffer {
  const body = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(body.length, 4);
  return Buffer.concat([h, body]);
}

const opts = { maxLines: 100, maxLine: 400, multiplexed: true };
const stream = Buffer.concat([frame(1, 'one\ntwo\n'), frame(2, 'err line\n'), frame(1, 'thr'), frame(1, 'ee\nlast without newline')]);
const want = [
  { stream: 'stdout', text: 'one' }, { stream: 'stdout', text: 'two' }, { stream: 'stderr', text: 'err line' },
  { stream: 'stdout', text: 'three' }, { stream: 'stdout', text: 'last without newline' },
];

test('frames split at every byte offset (and in three) decode to the same lines', () => {
  for (let i = 0; i <= stream.length; i++) {
    for (const j of [i, Math.min(stream.length, i + 3)]) {
      const d = new LogDecoder(opts);
      d.push(stream.subarray(0, i));
      d.push(stream.subarray(i, j));
      d.push(stream.subarray(j));
      assert.equal(d.end(), want, `split at ${i}, ${j}`);
    }
  }
  const d = new LogDecoder(opts);
  for (const b of stream) d.push(Buffer.from([b]));
  assert.equal(d.end(), want, 'one byte at a time');
});

test('only the newest maxLines are kept; a long line is cut and marked', () => {
  const d = new LogDecoder({ ...opts, maxLines: 2, maxLine: 5 });
  d.push(frame(1, 'a\nb\nc\n0123456789\n'));
  assert.equal(d.end(), [{ stream: 'stdout', text: 'c' }, { stream: 'stdout', text: '01234 [cut]' }]);
  assert.is(d.dropped, 2);
});

test('a TTY container\'s raw stream has no headers', () => {
  const d = new LogDecoder({ ...opts, multiplexed: false });
  d.push(Buffer.from('plain\r\ntext'));
  assert.equal(d.end(), [{ stream: 'stdout', text: 'plain' }, { stream: 'stdout', text: 'text' }]);
});

test('a header that is not a log frame is ENGINE_BAD_ANSWER; random bytes throw nothing else and stay bounded', () => {
  const d = new LogDecoder(opts);
  try {
    d.push(Buffer.from('HTTP/1.1 garbage'));
    assert.unreachable();
  } catch (err) {
    assert.is((err as HwError).code, 'ENGINE_BAD_ANSWER');
  }
  for (let i = 0; i < 2000; i++) {
    const r = new LogDecoder({ ...opts, maxLines: 10, maxLine: 50 });
    try {
      r.push(randomBytes(1 + (i % 300)));
      const lines = r.end();
      assert.ok(lines.length <= 10 && lines.every((l) => Buffer.byteLength(l.text) <= 50 * 3 + 6));
    } catch (err) {
      assert.instance(err, HwError);
      assert.is((err as HwError).code, 'ENGINE_BAD_ANSWER');
    }
  }
});

test.run();

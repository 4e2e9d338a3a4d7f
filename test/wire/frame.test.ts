// The frame decoder from raw bytes: round trips, every split offset, bad headers rejected the
// moment they are complete, and a random-buffer loop that may only ever throw coded errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MAX_FRAME_BYTES } from '../../common/wire/constants.ts';
import { HwError } from '../../common/errors.ts';
import {
  FrameDecoder, HEADER_BYTES, KIND_DATA, KIND_JSON, encodeDataHeader, encodeJson, encodeJsonAll, type Frame,
} from '../../common/wire/frame.ts';
import { codeOf } from '../harness.helper.ts';

const test = suite('wire/frame');


function header(len: number, kind: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.writeUInt32BE(len, 0);
  h[4] = kind;
  return h;
}

function dataFrame(stream: number, data: Buffer): Buffer {
  return Buffer.concat([encodeDataHeader(stream, data.length), data]);
}

/** Frames as plain values, so that assert.equal compares contents, not Buffer identity. */
function plain(frames: Frame[]): unknown[] {
  return frames.map((f) => (f.kind === KIND_JSON
    ? { kind: f.kind, json: JSON.parse(f.body.toString('utf8')) }
    : { kind: f.kind, stream: f.stream, hex: Buffer.concat(f.data).toString('hex') }));
}

// A mix of JSON and data frames, including the smallest legal bodies of each kind.
const MESSAGES: unknown[] = [{ type: 'hello', v: 1, name: 'héllo ✓' }, 1, { type: 'ping', at: 12345 }];
const SEQUENCE = Buffer.concat([
  encodeJson(MESSAGES[0]),
  dataFrame(7, Buffer.from([0, 1, 2, 3, 255])),
  encodeJson(MESSAGES[1]), // body "1": a one-byte frame
  dataFrame(0, Buffer.alloc(0)), // stream id only, no data
  dataFrame(0xffffffff, Buffer.from('tail')),
  encodeJson(MESSAGES[2]),
]);
const EXPECTED = [
  { kind: KIND_JSON, json: MESSAGES[0] },
  { kind: KIND_DATA, stream: 7, hex: '00010203ff' },
  { kind: KIND_JSON, json: 1 },
  { kind: KIND_DATA, stream: 0, hex: '' },
  { kind: KIND_DATA, stream: 0xffffffff, hex: Buffer.from('tail').toString('hex') },
  { kind: KIND_JSON, json: MESSAGES[2] },
];

test('json round trip: header is big-endian body length and kind 1', () => {
  const msg = { type: 'report', at: 1, metrics: { cpuPercent: null }, s: 'ünïcode' };
  const buf = encodeJson(msg);
  const bodyLen = Buffer.byteLength(JSON.stringify(msg), 'utf8');
  assert.is(buf.readUInt32BE(0), bodyLen);
  assert.is(buf[4], KIND_JSON);
  assert.is(buf.length, HEADER_BYTES + bodyLen);
  const d = new FrameDecoder();
  assert.equal(plain(d.push(buf)), [{ kind: KIND_JSON, json: msg }]);
  assert.is(d.bufferedBytes, 0);
});

test('encodeJsonAll: the same bytes as one encodeJson per message, multi-byte text included', () => {
  const msgs = [{ type: 'pong', at: 1 }, { type: 'bye', reason: 'Grüße, 東京 🚀' }, 7];
  assert.equal(encodeJsonAll(msgs), Buffer.concat(msgs.map((m) => encodeJson(m))));
  assert.is(encodeJsonAll([]).length, 0);
});

test('data round trip: stream id and bytes survive, header counts the 4-byte stream id', () => {
  const data = Buffer.from('some file bytes');
  const h = encodeDataHeader(42, data.length);
  assert.is(h.length, HEADER_BYTES + 4);
  assert.is(h.readUInt32BE(0), 4 + data.length);
  assert.is(h[4], KIND_DATA);
  const frames = new FrameDecoder().push(Buffer.concat([h, data]));
  assert.is(frames.length, 1);
  const f = frames[0]!;
  assert.ok(f.kind === KIND_DATA);
  if (f.kind !== KIND_DATA) return;
  assert.is(f.stream, 42);
  assert.is(Buffer.concat(f.data).toString(), 'some file bytes');
  assert.is(f.bytes, data.length);
  // A negative id is sent as its uint32 form, never as a broken header.
  assert.is(encodeDataHeader(-1, 0).readUInt32BE(5), 0xffffffff);
});

test('a data frame split across many chunks arrives byte-exact, as slices of those chunks (nothing copied)', () => {
  const data = Buffer.alloc(300_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
  const wire = Buffer.concat([dataFrame(5, data), encodeJson({ type: 'ping', at: 1 }), dataFrame(6, data.subarray(0, 10))]);
  // Ragged chunks, 16 KiB like a TLS record and odd sizes, so that the header and the stream id
  // are split too; each chunk is its own allocation, as it is off a socket.
  const sizes = [3, 4, 16384, 1, 9999, 16384, 7];
  const chunks: Buffer[] = [];
  for (let off = 0, i = 0; off < wire.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, wire.length - off);
    chunks.push(Buffer.from(wire.subarray(off, off + n)));
    off += n;
  }
  const d = new FrameDecoder();
  const frames = chunks.flatMap((c) => d.push(c));
  assert.is(frames.length, 3);
  const f = frames[0]!;
  if (f.kind !== KIND_DATA) throw new Error('expected a data frame');
  assert.is(f.stream, 5);
  assert.is(f.bytes, data.length);
  assert.ok(f.data.length > 10, `${f.data.length} slices`);
  assert.is(f.data.reduce((n, b) => n + b.length, 0), data.length);
  assert.ok(Buffer.concat(f.data).equals(data));
  // Every slice is a view of one of the chunks pushed: no copy was made.
  const owners = new Set(chunks.map((c) => c.buffer));
  assert.ok(f.data.every((b) => owners.has(b.buffer)));
  assert.is(frames[1]!.kind, KIND_JSON);
  const g = frames[2]!;
  if (g.kind !== KIND_DATA) throw new Error('expected a data frame');
  assert.is(g.stream, 6);
  assert.ok(Buffer.concat(g.data).equals(data.subarray(0, 10)));
  assert.is(d.bufferedBytes, 0);
});

test('a sequence of frames pushed whole decodes to the same frames', () => {
  const d = new FrameDecoder();
  assert.equal(plain(d.push(SEQUENCE)), EXPECTED);
  assert.is(d.bufferedBytes, 0);
});

test('split at every byte offset gives the same frames', () => {
  for (let i = 0; i <= SEQUENCE.length; i++) {
    const d = new FrameDecoder();
    const got = [...d.push(SEQUENCE.subarray(0, i)), ...d.push(SEQUENCE.subarray(i))];
    assert.equal(plain(got), EXPECTED, `split at ${i}`);
    assert.is(d.bufferedBytes, 0, `split at ${i}`);
  }
});

test('split at every pair of offsets (three chunks) gives the same frames', () => {
  for (let i = 0; i <= SEQUENCE.length; i++) {
    for (let j = i; j <= SEQUENCE.length; j++) {
      const d = new FrameDecoder();
      const got = [
        ...d.push(SEQUENCE.subarray(0, i)), ...d.push(SEQUENCE.subarray(i, j)), ...d.push(SEQUENCE.subarray(j)),
      ];
      assert.equal(plain(got), EXPECTED, `split at ${i},${j}`);
    }
  }
});

test('one byte at a time gives the same frames, and bufferedBytes counts what is held', () => {
  const d = new FrameDecoder();
  const got: Frame[] = [];
  for (let i = 0; i < SEQUENCE.length; i++) {
    got.push(...d.push(SEQUENCE.subarray(i, i + 1)));
    assert.ok(d.bufferedBytes <= MAX_FRAME_BYTES);
  }
  assert.equal(plain(got), EXPECTED);
  assert.is(d.bufferedBytes, 0);
});

test('a partial frame is held and counted, then completed', () => {
  const buf = encodeJson({ type: 'bye', reason: 'x' });
  const d = new FrameDecoder();
  assert.equal(d.push(buf.subarray(0, 3)), []);
  assert.is(d.bufferedBytes, 3);
  assert.equal(d.push(buf.subarray(3, buf.length - 1)), []);
  assert.equal(plain(d.push(buf.subarray(buf.length - 1))), [{ kind: KIND_JSON, json: { type: 'bye', reason: 'x' } }]);
  assert.equal(d.push(Buffer.alloc(0)), []);
});

test('header announcing MAX_FRAME_BYTES+1 throws FRAME_TOO_LARGE before any body byte', () => {
  for (const kind of [KIND_JSON, KIND_DATA]) {
    const d = new FrameDecoder();
    const h = header(MAX_FRAME_BYTES + 1, kind);
    assert.equal(d.push(h.subarray(0, 4)), [], 'four header bytes are not yet a header');
    assert.is(codeOf(() => d.push(h.subarray(4))), 'FRAME_TOO_LARGE');
    assert.ok(d.bufferedBytes <= HEADER_BYTES, `holds ${d.bufferedBytes} bytes after the bad header`);
  }
});

test('a body of exactly MAX_FRAME_BYTES is accepted (the limit is inclusive)', () => {
  const d = new FrameDecoder();
  assert.equal(d.push(header(MAX_FRAME_BYTES, KIND_JSON)), []);
  const body = Buffer.alloc(MAX_FRAME_BYTES, 0x20);
  body[0] = 0x31; // "1" followed by spaces: valid JSON
  const frames = d.push(body);
  assert.is(frames.length, 1);
  const f = frames[0]!;
  assert.is(f.kind, KIND_JSON);
  assert.is(f.kind === KIND_JSON ? f.body.length : -1, MAX_FRAME_BYTES);
});

test('the limit passed to the constructor is the one enforced', () => {
  const d = new FrameDecoder(10);
  assert.equal(plain(d.push(Buffer.concat([header(10, KIND_JSON), Buffer.from('"12345678"')]))), [{ kind: KIND_JSON, json: '12345678' }]);
  assert.is(codeOf(() => new FrameDecoder(10).push(header(11, KIND_JSON))), 'FRAME_TOO_LARGE');
});

test('length 0xFFFFFFFF (negative as int32) is rejected, not read as -1', () => {
  assert.is(codeOf(() => new FrameDecoder().push(header(0xffffffff, KIND_JSON))), 'FRAME_TOO_LARGE');
  assert.is(codeOf(() => new FrameDecoder().push(header(0xffffffff, KIND_DATA))), 'FRAME_TOO_LARGE');
  assert.is(codeOf(() => new FrameDecoder().push(header(0x80000000, KIND_JSON))), 'FRAME_TOO_LARGE');
});

test('length 0 is FRAME_EMPTY; a data frame shorter than its stream id too', () => {
  assert.is(codeOf(() => new FrameDecoder().push(header(0, KIND_JSON))), 'FRAME_EMPTY');
  for (const len of [0, 1, 2, 3]) {
    assert.is(codeOf(() => new FrameDecoder().push(header(len, KIND_DATA))), 'FRAME_EMPTY', `data len ${len}`);
  }
});

test('unknown kind is FRAME_KIND, whatever the length', () => {
  for (const kind of [0, 3, 127, 255]) {
    assert.is(codeOf(() => new FrameDecoder().push(header(5, kind))), 'FRAME_KIND', `kind ${kind}`);
  }
  // A bad frame after a good one: the good one is not lost silently, the error still surfaces.
  const d = new FrameDecoder();
  assert.equal(plain(d.push(encodeJson(1))), [{ kind: KIND_JSON, json: 1 }]);
  assert.is(codeOf(() => d.push(header(1, 9))), 'FRAME_KIND');
});

test('encoders refuse what the decoder would refuse', () => {
  assert.is(codeOf(() => encodeJson('x'.repeat(MAX_FRAME_BYTES))), 'FRAME_TOO_LARGE'); // + 2 quotes
  assert.is(codeOf(() => encodeDataHeader(1, MAX_FRAME_BYTES - 3)), 'FRAME_TOO_LARGE');
  assert.is(encodeDataHeader(1, MAX_FRAME_BYTES - 4).readUInt32BE(0), MAX_FRAME_BYTES);
});

// Random bytes are deterministic (seeded) so that a failure can be replayed.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gcNow(): void {
  try {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // no gc available: the bound below is generous enough without it
  }
}

test('random buffers: only HwError is ever thrown, memory stays bounded', () => {
  const rand = rng(0xc0ffee);
  const byte = () => Math.floor(rand() * 256);
  const MAX_BODY = 4096;
  const WANT = 50_000;
  const MIN = 20_000;
  const deadline = Date.now() + 5000;
  const codes = new Map<string, number>();
  let frames = 0;
  let runs = 0;
  gcNow();
  const heapBefore = process.memoryUsage().heapUsed;
  for (; runs < WANT && (runs % 256 !== 0 || Date.now() < deadline); runs++) {
    // Half the buffers start with a plausible header so that bodies, not only headers, get parsed.
    const len = Math.floor(rand() * 96);
    const buf = Buffer.alloc(len);
    for (let i = 0; i < len; i++) buf[i] = byte();
    if (runs % 2 === 0 && len >= HEADER_BYTES) {
      buf.writeUInt32BE(Math.floor(rand() * 40), 0);
      buf[4] = rand() < 0.5 ? KIND_JSON : KIND_DATA;
    }
    const d = new FrameDecoder(MAX_BODY);
    try {
      let off = 0;
      while (off < len) {
        const n = 1 + Math.floor(rand() * (len - off));
        frames += d.push(buf.subarray(off, off + n)).length;
        off += n;
        assert.ok(d.bufferedBytes <= MAX_BODY + HEADER_BYTES + len, `buffered ${d.bufferedBytes}`);
      }
    } catch (err) {
      if (!(err instanceof HwError)) {
        throw new Error(`run ${runs}: non-HwError thrown for ${buf.toString('hex')}: ${String(err)}`);
      }
      codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
    }
  }
  gcNow();
  const grown = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(runs >= MIN, `only ${runs} random buffers in 5 s`);
  // The loop must have exercised every path, or it proves nothing.
  assert.ok(frames > 100, `only ${frames} frames decoded`);
  for (const code of ['FRAME_KIND', 'FRAME_TOO_LARGE', 'FRAME_EMPTY']) assert.ok(codes.get(code), `never saw ${code}`);
  assert.ok(grown < 32 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MB`);
});

test('one long-lived decoder fed random bytes never holds more than one frame', () => {
  const rand = rng(42);
  const MAX_BODY = 1000;
  for (let round = 0; round < 200; round++) {
    const d = new FrameDecoder(MAX_BODY);
    try {
      for (let k = 0; k < 1000; k++) {
        const chunk = Buffer.alloc(1 + Math.floor(rand() * 64));
        for (let i = 0; i < chunk.length; i++) chunk[i] = Math.floor(rand() * 256);
        if (rand() < 0.5) {
          // keep the stream parseable for longer: a legal header most of the time
          chunk[0] = 0; chunk[1] = 0; chunk[2] = 0; chunk[3] = Math.floor(rand() * 200) + 4;
          if (chunk.length > 4) chunk[4] = KIND_DATA;
        }
        d.push(chunk);
        assert.ok(d.bufferedBytes < MAX_BODY + HEADER_BYTES + 64, `buffered ${d.bufferedBytes}`);
      }
    } catch (err) {
      assert.instance(err, HwError);
    }
  }
});

test.run();

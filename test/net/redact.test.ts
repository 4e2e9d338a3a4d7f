// redactUrl, maskUrl and scrubSecrets on the forms credentials take in URLs and error text.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maskUrl, redactUrl, scrubSecrets } from '../../common/net/redact.ts';

test('redactUrl: scheme://host:port, the port spelled out, nothing else', () => {
  assert.is(redactUrl('https://hooks.slack.com/services/T/B/secret'), 'https://hooks.slack.com:443');
  assert.is(redactUrl('http://user:pw@127.0.0.1:9093/api/v2/alerts?token=x#frag'), 'http://127.0.0.1:9093');
  assert.is(redactUrl('http://[::1]:8080/x'), 'http://[::1]:8080');
  assert.is(redactUrl('http://example.com'), 'http://example.com:80');
  assert.is(redactUrl('not a url'), '(bad URL)');
});

test('maskUrl: the password and credential-like query values masked, the rest kept', () => {
  assert.is(maskUrl('http://u:p%40ss@h:1/path?token=abc&x=1&api_key=k&sig=s'), 'http://u:***@h:1/path?token=***&x=1&api_key=***&sig=***');
  assert.is(maskUrl('https://h/p'), 'https://h/p');
  assert.is(maskUrl('http://u:pw@ bad'), 'http://***@ bad');
});

test('scrubSecrets: user info, Authorization and Bearer values, given secrets, a URL\'s secret parts', () => {
  const url = 'http://bob:s3cr3t-pw@127.0.0.1:9000/services/T1/B2/ZZZZZZZZ?token=qqqqqqqq';
  const text = [
    `POST ${url} failed`, 'http://alice:other-pw@elsewhere.example/x', 'Authorization: Basic Ym9iOnMzY3IzdC1wdw==',
    '"authorization":"Bearer eyJhbGciOi.abc.def"', 'token=Bearer abcdefghijkl', 'path /services/T1/B2/ZZZZZZZZ not found',
    'decoded s3cr3t-pw', 'my-hmac-secret-value here',
  ].join('\n');
  const out = scrubSecrets(text, { urls: [url], secrets: ['my-hmac-secret-value'] });
  for (const leak of ['s3cr3t-pw', 'other-pw', 'Ym9iOnMzY3IzdC1wdw', 'eyJhbGciOi', 'abcdefghijkl', 'ZZZZZZZZ', 'qqqqqqqq', 'my-hmac-secret-value', 'alice']) {
    assert.not.ok(out.includes(leak), `${leak} in:\n${out}`);
  }
  assert.match(out, 'POST http://127.0.0.1:9000/… failed', 'still says where it went');
  assert.match(out, 'Authorization: Basic ***');
  assert.is(scrubSecrets('HTTP 500: internal error'), 'HTTP 500: internal error', 'plain text untouched');
});

test.run();

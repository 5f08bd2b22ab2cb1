import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Signer } from './signing.js';

const frames = ['{"msg_id":"1"}', '{}', '{}', '{"code":"1"}'].map((s) => Buffer.from(s));

test('signs with HMAC-SHA256 over the four JSON frames in order', () => {
  const expected = createHmac('sha256', 'secret');
  for (const frame of frames) expected.update(frame);
  assert.equal(new Signer('secret').sign(frames), expected.digest('hex'));
});

test('verifies a good signature and rejects a bad, truncated or empty one', () => {
  const signer = new Signer('secret');
  const signature = signer.sign(frames);
  assert.equal(signer.verify(signature, frames), true);
  assert.equal(signer.verify(signature.replace(/.$/, (c) => (c === '0' ? '1' : '0')), frames), false);
  assert.equal(signer.verify(signature.slice(0, 10), frames), false);
  assert.equal(signer.verify('', frames), false);
  assert.equal(new Signer('other').verify(signature, frames), false);
});

test('a changed frame invalidates the signature', () => {
  const signer = new Signer('secret');
  const signature = signer.sign(frames);
  const tampered = [...frames.slice(0, 3), Buffer.from('{"code":"2"}')];
  assert.equal(signer.verify(signature, tampered), false);
});

test('an empty key disables signing, as the spec allows', () => {
  const signer = new Signer('');
  assert.equal(signer.sign(frames), '');
  assert.equal(signer.verify('', frames), true);
});

test('unsupported schemes are refused by name', () => {
  assert.throws(() => new Signer('k', 'rsa-sha1'), /unsupported signature_scheme "rsa-sha1"/);
});

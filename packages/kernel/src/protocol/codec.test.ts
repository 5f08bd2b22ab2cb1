import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, DELIMITER, encode, WireError } from './codec.js';
import { childMessage, newHeader } from './messages.js';
import { Signer } from './signing.js';

const signer = new Signer('key');

function sample() {
  return {
    identities: [Buffer.from('client-1')],
    header: newHeader('execute_request', 'session-1'),
    parent_header: {},
    metadata: { a: 1 },
    content: { code: '1 + 1' },
    buffers: [Buffer.from([1, 2, 3])],
  };
}

test('encode → decode round trip keeps identities, JSON parts and buffers', () => {
  const message = sample();
  const decoded = decode(encode(message, signer), signer);
  assert.deepEqual(decoded.identities, message.identities);
  assert.deepEqual(decoded.header, message.header);
  assert.deepEqual(decoded.content, message.content);
  assert.deepEqual(decoded.metadata, message.metadata);
  assert.deepEqual(decoded.buffers, message.buffers);
});

test('frames are identities, delimiter, signature, four JSON parts, buffers', () => {
  const frames = encode(sample(), signer);
  assert.equal(frames.length, 1 + 1 + 1 + 4 + 1);
  assert.ok(frames[1].equals(DELIMITER));
  assert.match(frames[2].toString(), /^[0-9a-f]{64}$/);
});

test('a missing delimiter, too few parts, bad JSON and a bad signature are named', () => {
  const frames = encode(sample(), signer);
  const reason = (f: Buffer[]) => {
    try {
      decode(f, signer);
    } catch (error) {
      assert.ok(error instanceof WireError);
      return error.reason;
    }
    return 'accepted';
  };
  assert.equal(reason(frames.filter((f) => !f.equals(DELIMITER))), 'delimiter');
  assert.equal(reason(frames.slice(0, 5)), 'parts');
  const badSignature = [...frames];
  badSignature[2] = Buffer.from('0'.repeat(64));
  assert.equal(reason(badSignature), 'signature');
  const noSignature = [...frames];
  noSignature[2] = Buffer.alloc(0);
  assert.equal(reason(noSignature), 'signature');
  const badJson = [...frames];
  badJson[6] = Buffer.from('{not json');
  badJson[2] = Buffer.from(signer.sign(badJson.slice(3, 7)));
  assert.equal(reason(badJson), 'json');
  const arrayContent = [...frames];
  arrayContent[6] = Buffer.from('[1]');
  arrayContent[2] = Buffer.from(signer.sign(arrayContent.slice(3, 7)));
  assert.equal(reason(arrayContent), 'json');
});

test('childMessage sets the parent header and routes back to the sender', () => {
  const parent = decode(encode(sample(), signer), signer);
  const reply = childMessage(parent, 'execute_reply', { status: 'ok' }, 'kernel-session');
  assert.deepEqual(reply.parent_header, parent.header);
  assert.deepEqual(reply.identities, parent.identities);
  assert.equal(reply.header.msg_type, 'execute_reply');
  assert.equal(reply.header.version, '5.3');
});

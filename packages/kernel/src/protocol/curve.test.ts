/**
 * CurveZMQ on the kernel's sockets, over real ZeroMQ sockets: with keys in the connection info
 * every socket is a Curve server; a Curve client that knows the server key talks to it, a plain
 * client or one with another server key gets nothing on any channel.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as zmq from 'zeromq';
import { newConnectionInfo } from '../client/launcher.js';
import { decode, encode } from './codec.js';
import { endpoint, parseConnectionInfo, type ConnectionInfo } from './connection.js';
import { curveSupported, isZ85Key, makeCurveClient, newCurveKeyPair } from './curve.js';
import { newHeader, type Message } from './messages.js';
import { Signer } from './signing.js';
import { KernelSockets } from './sockets.js';

const SILENCE_MS = 600;

function request(msgType: string): Message {
  return { identities: [], header: newHeader(msgType, 'curve-test'), parent_header: {}, metadata: {}, content: {}, buffers: [] };
}

/** Everything a socket receives, read by one loop (zeromq allows one receive in flight). */
class Inbox {
  private readonly messages: Buffer[][] = [];
  constructor(socket: zmq.Readable & zmq.Socket) {
    void (async () => {
      for await (const frames of socket) this.messages.push(frames);
    })().catch(() => undefined);
  }

  /** The next message, or 'silence' when none arrives within `ms`. */
  async next(ms = SILENCE_MS): Promise<Buffer[] | 'silence'> {
    const deadline = Date.now() + ms;
    while (this.messages.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return this.messages.shift() ?? 'silence';
  }
}

test('this zeromq build has CURVE and makes Z85 keypairs', () => {
  assert.equal(curveSupported(), true);
  const keys = newCurveKeyPair();
  assert.ok(isZ85Key(keys.publicKey) && isZ85Key(keys.secretKey));
  assert.equal(isZ85Key('short'), false);
});

test('connection info: curve keys are both present and Z85, or both absent', async () => {
  const plain = await newConnectionInfo();
  const parsed = parseConnectionInfo(plain);
  assert.equal('curve_publickey' in parsed || 'curve_secretkey' in parsed, false);
  const encrypted = await newConnectionInfo({ encryption: true });
  assert.deepEqual(parseConnectionInfo(encrypted), encrypted);
  assert.throws(() => parseConnectionInfo({ ...plain, curve_publickey: encrypted.curve_publickey }), /"curve_secretkey" is missing/);
  assert.throws(() => parseConnectionInfo({ ...encrypted, curve_secretkey: 'not-a-key' }), /"curve_secretkey" must be a Z85-encoded CurveZMQ key/);
});

describe('KernelSockets with CurveZMQ keys', () => {
  let info: ConnectionInfo;
  let kernel: KernelSockets;
  const received: Message[] = [];
  const subscriptions: string[] = [];
  const clients: zmq.Socket[] = [];
  const signer = () => new Signer(info.key, info.signature_scheme);

  /** A client socket, as a Curve client of `serverKey` when given, and its inbox; closed after the suite. */
  function client<S extends zmq.Socket & zmq.Readable>(socket: S, channel: Parameters<typeof endpoint>[1], serverKey?: string): [S, Inbox] {
    socket.linger = 0;
    if (serverKey) makeCurveClient(socket, serverKey);
    socket.connect(endpoint(info, channel));
    clients.push(socket);
    return [socket, new Inbox(socket)];
  }

  before(async () => {
    info = await newConnectionInfo({ encryption: true });
    kernel = new KernelSockets(info, () => undefined);
    assert.equal(kernel.encrypted, true);
    await kernel.bind();
    kernel.listen(
      (channel, message) => {
        received.push(message);
        void kernel.send(channel, { ...message, header: newHeader(message.header.msg_type.replace('_request', '_reply'), 'kernel'), parent_header: message.header });
      },
      (topic) => subscriptions.push(topic.toString()),
    );
  });

  after(() => {
    for (const socket of clients) socket.close();
    kernel.close();
  });

  test('a Curve client with the server key gets replies on shell, control and stdin', async () => {
    for (const channel of ['shell', 'control', 'stdin'] as const) {
      const [dealer, inbox] = client(new zmq.Dealer(), channel, info.curve_publickey);
      const sent = request('kernel_info_request');
      await dealer.send(encode(sent, signer()));
      const frames = await inbox.next(10_000);
      assert.notEqual(frames, 'silence', `${channel}: no reply`);
      const reply = decode(frames as Buffer[], signer());
      assert.equal(reply.header.msg_type, 'kernel_info_reply');
      assert.equal((reply.parent_header as { msg_id: string }).msg_id, sent.header.msg_id);
      assert.equal(dealer.securityMechanism, 'curve');
    }
  });

  test('a plain client and a client with another server key reach no handler', async () => {
    const before = received.length;
    const [plain, plainInbox] = client(new zmq.Dealer(), 'shell');
    const [stranger, strangerInbox] = client(new zmq.Dealer(), 'control', newCurveKeyPair().publicKey);
    // Sends to a peer whose handshake fails stay queued: do not await them.
    void plain.send(encode(request('execute_request'), signer())).catch(() => undefined);
    void stranger.send(encode(request('execute_request'), signer())).catch(() => undefined);
    assert.equal(await plainInbox.next(), 'silence');
    assert.equal(await strangerInbox.next(100), 'silence');
    assert.equal(received.length, before, 'the kernel handled a message from a client without the key');
  });

  test('IOPub reaches a Curve subscriber with the key, not a plain one or one with another key', async () => {
    const sockets = [client(new zmq.Subscriber(), 'iopub', info.curve_publickey), client(new zmq.Subscriber(), 'iopub'), client(new zmq.Subscriber(), 'iopub', newCurveKeyPair().publicKey)];
    for (const [socket] of sockets) socket.subscribe();
    const [trusted, plain, stranger] = sockets.map(([, inbox]) => inbox);
    // Publish until the trusted subscriber is joined (a PUB drops messages before that), then more.
    const publish = (): Promise<void> => kernel.send('iopub', { ...request('stream'), content: { name: 'stdout', text: 'secret' } });
    const deadline = Date.now() + 10_000;
    let first: Buffer[] | 'silence' = 'silence';
    while (first === 'silence' && Date.now() < deadline) {
      await publish();
      first = await trusted.next(100);
    }
    assert.notEqual(first, 'silence', 'the trusted subscriber got nothing');
    assert.equal(decode(first as Buffer[], signer()).content.text, 'secret');
    for (let i = 0; i < 5; i += 1) await publish();
    assert.equal((await trusted.next()) !== 'silence', true, 'the trusted subscriber got the later messages');
    assert.equal(await plain.next(), 'silence', 'a plain SUB read IOPub');
    assert.equal(await stranger.next(100), 'silence', 'a SUB with another server key read IOPub');
    assert.equal(subscriptions.length, 1, 'only the trusted subscription reached the kernel');
  });

  test('the heartbeat echoes to a Curve client with the key only', async () => {
    const [trusted, trustedInbox] = client(new zmq.Request(), 'hb', info.curve_publickey);
    await trusted.send('ping');
    assert.deepEqual(await trustedInbox.next(10_000), [Buffer.from('ping')]);
    const [plain, plainInbox] = client(new zmq.Request(), 'hb');
    void plain.send('ping').catch(() => undefined);
    assert.equal(await plainInbox.next(), 'silence');
  });
});

test('without keys the sockets are plain (NULL mechanism), as before', async () => {
  const info = await newConnectionInfo();
  const kernel = new KernelSockets(info, () => undefined);
  assert.equal(kernel.encrypted, false);
  await kernel.bind();
  kernel.listen(() => undefined);
  const hb = new zmq.Request();
  hb.linger = 0;
  hb.connect(endpoint(info, 'hb'));
  const inbox = new Inbox(hb);
  try {
    await hb.send('ping');
    assert.deepEqual(await inbox.next(10_000), [Buffer.from('ping')]);
    assert.equal(hb.securityMechanism, null);
  } finally {
    hb.close();
    kernel.close();
  }
});

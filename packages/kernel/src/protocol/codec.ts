/**
 * Encoding and decoding of multipart wire messages:
 * `[identities…, "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers…]`.
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol
 */
import type { Header, JsonObject, Message } from './messages.js';
import type { Signer } from './signing.js';

/** The delimiter between routing identities and the signed message. */
export const DELIMITER = Buffer.from('<IDS|MSG>', 'utf8');

/** Why a received multipart message was rejected. */
export class WireError extends Error {
  constructor(
    message: string,
    readonly reason: 'delimiter' | 'parts' | 'signature' | 'json' | 'header',
  ) {
    super(message);
    this.name = 'WireError';
  }
}

/** Encodes a message into frames, signing header, parent header, metadata and content. */
export function encode(message: Message, signer: Signer): Buffer[] {
  const json = [message.header, message.parent_header, message.metadata, message.content].map((part) =>
    Buffer.from(JSON.stringify(part), 'utf8'),
  );
  return [...message.identities, DELIMITER, Buffer.from(signer.sign(json), 'utf8'), ...json, ...message.buffers];
}

function parseJsonFrame(frame: Buffer, name: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(frame.toString('utf8'));
  } catch (error) {
    throw new WireError(`${name} frame is not valid JSON: ${(error as Error).message}`, 'json');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WireError(`${name} frame is not a JSON object`, 'json');
  }
  return value as JsonObject;
}

/**
 * Decodes and verifies frames. Throws a {@link WireError} naming the problem for a missing
 * delimiter, too few parts, a bad or missing signature, or a frame that is not a JSON object.
 * The signature is checked before any JSON is parsed.
 */
export function decode(frames: readonly Buffer[], signer: Signer): Message {
  const at = frames.findIndex((frame) => frame.equals(DELIMITER));
  if (at < 0) throw new WireError('no <IDS|MSG> delimiter in message', 'delimiter');
  const rest = frames.slice(at + 1);
  if (rest.length < 5) {
    throw new WireError(`expected signature and 4 message frames after the delimiter, got ${rest.length}`, 'parts');
  }
  const [signature, header, parent, metadata, content, ...buffers] = rest;
  if (!signer.verify(signature.toString('utf8'), [header, parent, metadata, content])) {
    throw new WireError(signature.length === 0 ? 'missing signature' : 'bad signature', 'signature');
  }
  const decodedHeader = parseJsonFrame(header, 'header');
  if (typeof decodedHeader.msg_type !== 'string' || typeof decodedHeader.msg_id !== 'string') {
    throw new WireError('header lacks msg_type or msg_id', 'header');
  }
  return {
    identities: frames.slice(0, at).map((frame) => Buffer.from(frame)),
    header: decodedHeader as unknown as Header,
    parent_header: parseJsonFrame(parent, 'parent_header') as Message['parent_header'],
    metadata: parseJsonFrame(metadata, 'metadata'),
    content: parseJsonFrame(content, 'content'),
    buffers: buffers.map((frame) => Buffer.from(frame)),
  };
}

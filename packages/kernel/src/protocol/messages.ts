/**
 * Jupyter message model, as specified by the messaging protocol 5.3.
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html#general-message-format
 */
import { randomUUID } from 'node:crypto';

/** The protocol version this kernel speaks. */
export const PROTOCOL_VERSION = '5.3';

/** A message header. */
export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
  subshell_id?: string | null;
}

/** A JSON object, as carried in `content` and `metadata`. */
export type JsonObject = { [key: string]: unknown };

/** A decoded message: identities, header, parent header, metadata, content, binary buffers. */
export interface Message<C extends JsonObject = JsonObject> {
  identities: Buffer[];
  header: Header;
  parent_header: Header | Record<string, never>;
  metadata: JsonObject;
  content: C;
  buffers: Buffer[];
}

/** Builds a fresh header for an outgoing message. */
export function newHeader(msgType: string, session: string, username = 'hyperlab'): Header {
  return {
    msg_id: randomUUID(),
    session,
    username,
    date: new Date().toISOString(),
    msg_type: msgType,
    version: PROTOCOL_VERSION,
  };
}

/**
 * Builds a message that answers or is caused by `parent`: same session, `parent_header` set,
 * identities copied so that ROUTER sockets route it back to the requester.
 */
export function childMessage<C extends JsonObject>(
  parent: Message | undefined,
  msgType: string,
  content: C,
  session: string,
  metadata: JsonObject = {},
): Message<C> {
  return {
    identities: parent ? parent.identities : [],
    header: newHeader(msgType, session, parent?.header.username),
    parent_header: parent ? parent.header : {},
    metadata,
    content,
    buffers: [],
  };
}

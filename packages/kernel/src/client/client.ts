/**
 * A Jupyter client over ZeroMQ, as a Jupyter server speaks to a kernel: DEALER sockets for shell,
 * control and stdin, a SUB socket for IOPub, a REQ socket for heartbeats. Used by the kernel's
 * protocol tests and by the headless notebook runner. When the connection info carries the
 * kernel's CurveZMQ public key, every socket is a Curve client of it.
 */
import { randomUUID } from 'node:crypto';
import * as zmq from 'zeromq';
import { decode, encode } from '../protocol/codec.js';
import { endpoint, type ConnectionInfo } from '../protocol/connection.js';
import { makeCurveClient } from '../protocol/curve.js';
import { newHeader, type JsonObject, type Message } from '../protocol/messages.js';
import { Signer } from '../protocol/signing.js';

type RequestChannel = 'shell' | 'control' | 'stdin';

/** Everything a request caused: its reply and the IOPub messages with it as parent. */
export interface RequestResult {
  reply: Message;
  iopub: Message[];
}

/** Options for {@link KernelClient.execute}. */
export interface ExecuteOptions {
  silent?: boolean;
  store_history?: boolean;
  user_expressions?: Record<string, string>;
  allow_stdin?: boolean;
  stop_on_error?: boolean;
  /** Answers input_request messages; without it, allow_stdin defaults to false. */
  onInput?: (prompt: string, password: boolean) => string | Promise<string>;
  /** Sees each IOPub message as it arrives. */
  onIopub?: (message: Message) => void;
  timeoutMs?: number;
  /** Aborting rejects the pending request (the kernel is not told: send an interrupt for that). */
  signal?: AbortSignal;
}

/** A connected client. */
export class KernelClient {
  readonly session = randomUUID();
  readonly signer: Signer;
  private readonly sockets: Record<RequestChannel, zmq.Dealer>;
  private readonly iopub = new zmq.Subscriber();
  private hb = new zmq.Request();
  /** Rejecters of the requests in flight, called by {@link KernelClient.close}. */
  private readonly pending = new Set<(error: Error) => void>();
  private readonly replyWaiters = new Map<string, (message: Message) => void>();
  private readonly iopubByParent = new Map<string, Message[]>();
  private readonly idleWaiters = new Map<string, () => void>();
  private readonly iopubListeners = new Map<string, (message: Message) => void>();
  private readonly inputHandlers = new Map<string, (message: Message) => void>();
  private readonly sendQueues = new Map<zmq.Writable, Promise<void>>();
  /** Every IOPub message received, in order (tests inspect it). */
  readonly allIopub: Message[] = [];
  private closed = false;

  constructor(readonly info: ConnectionInfo) {
    this.signer = new Signer(info.key, info.signature_scheme);
    this.sockets = { shell: new zmq.Dealer(), control: new zmq.Dealer(), stdin: new zmq.Dealer() };
    const identity = Buffer.from(this.session);
    for (const socket of Object.values(this.sockets)) {
      socket.routingId = identity.toString();
      this.configureSecurity(socket);
    }
    this.configureSecurity(this.iopub);
    this.configureHeartbeat();
  }

  /** Linger 0 and, for an encrypted kernel, a Curve client of its public key (before connect). */
  private configureSecurity(socket: zmq.Socket): void {
    socket.linger = 0;
    if (this.info.curve_publickey) makeCurveClient(socket, this.info.curve_publickey);
  }

  private configureHeartbeat(): void {
    this.configureSecurity(this.hb);
    this.hb.receiveTimeout = 1000;
  }

  /** Connects every socket and subscribes to IOPub; resolves when IOPub is live. */
  async connect(timeoutMs = 10_000): Promise<void> {
    for (const channel of ['shell', 'control', 'stdin'] as const) this.sockets[channel].connect(endpoint(this.info, channel));
    this.iopub.connect(endpoint(this.info, 'iopub'));
    this.iopub.subscribe();
    this.hb.connect(endpoint(this.info, 'hb'));
    for (const channel of ['shell', 'control', 'stdin'] as const) void this.receive(channel, this.sockets[channel]);
    void this.receiveIopub();
    // IOPub is live once a welcome or any message arrives; kernel_info until then.
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const welcomed = this.allIopub.some((m) => m.header.msg_type === 'iopub_welcome');
      if (welcomed) return;
      try {
        await this.request('shell', 'kernel_info_request', {}, { timeoutMs: 500 });
      } catch {
        // not up yet
      }
      if (this.allIopub.length) return;
    }
    throw new Error('kernel did not answer within the timeout');
  }

  private async receive(channel: RequestChannel, socket: zmq.Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        const message = decode(frames, this.signer);
        const parent = (message.parent_header as { msg_id?: string }).msg_id ?? '';
        if (channel === 'stdin') this.inputHandlers.get(parent)?.(message);
        else this.replyWaiters.get(parent)?.(message);
      }
    } catch (error) {
      if (!this.closed) throw error;
    }
  }

  private async receiveIopub(): Promise<void> {
    try {
      for await (const frames of this.iopub) {
        const message = decode(frames, this.signer);
        this.allIopub.push(message);
        const parent = (message.parent_header as { msg_id?: string }).msg_id ?? '';
        if (!parent) continue;
        const list = this.iopubByParent.get(parent) ?? [];
        list.push(message);
        this.iopubByParent.set(parent, list);
        this.iopubListeners.get(parent)?.(message);
        if (message.header.msg_type === 'status' && message.content.execution_state === 'idle') this.idleWaiters.get(parent)?.();
      }
    } catch (error) {
      if (!this.closed) throw error;
    }
  }

  /** Sends raw frames on a channel (tests use it for malformed and badly signed messages). */
  sendRaw(channel: RequestChannel, frames: Buffer[]): Promise<void> {
    return this.enqueue(this.sockets[channel], frames);
  }

  private enqueue(socket: zmq.Dealer, frames: Buffer[]): Promise<void> {
    const previous = this.sendQueues.get(socket) ?? Promise.resolve();
    const next = previous.then(() => socket.send(frames));
    this.sendQueues.set(socket, next.catch(() => undefined));
    return next;
  }

  /** Builds a signed message. */
  message(msgType: string, content: JsonObject, parent?: Message): Message {
    return { identities: [], header: newHeader(msgType, this.session, 'test'), parent_header: parent?.header ?? {}, metadata: {}, content, buffers: [] };
  }

  /**
   * Sends a request and resolves with its reply and the IOPub messages up to its idle status.
   * Rejects after `timeoutMs`.
   */
  async request(
    channel: RequestChannel,
    msgType: string,
    content: JsonObject,
    options: { timeoutMs?: number; onIopub?: (m: Message) => void; onInput?: ExecuteOptions['onInput']; expectReply?: boolean; signal?: AbortSignal } = {},
  ): Promise<RequestResult> {
    if (this.closed) throw new Error(`${msgType}: the client is closed`);
    const message = this.message(msgType, content);
    const id = message.header.msg_id;
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (options.onIopub) this.iopubListeners.set(id, options.onIopub);
    if (options.onInput) {
      const onInput = options.onInput;
      this.inputHandlers.set(id, (request) => {
        void (async () => {
          const value = await onInput(String(request.content.prompt ?? ''), Boolean(request.content.password));
          const reply = this.message('input_reply', { value }, request);
          await this.enqueue(this.sockets.stdin, encode(reply, this.signer));
        })();
      });
    }
    const replied =
      options.expectReply === false ? Promise.resolve(message) : new Promise<Message>((resolve) => this.replyWaiters.set(id, resolve));
    const idle = new Promise<void>((resolve) => this.idleWaiters.set(id, resolve));
    let timer: NodeJS.Timeout | undefined;
    let cancel!: (error: Error) => void;
    const onAbort = (): void => cancel(new Error(`${msgType} was aborted`));
    const stopped = new Promise<never>((_, reject) => {
      cancel = reject;
      timer = setTimeout(() => reject(new Error(`${msgType} got no reply and idle status within ${timeoutMs} ms`)), timeoutMs);
    });
    stopped.catch(() => undefined);
    this.pending.add(cancel);
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([this.enqueue(this.sockets[channel], encode(message, this.signer)), stopped]).catch((error: Error) => {
        throw this.closed ? new Error('the kernel client was closed') : error;
      });
      const [reply] = await Promise.race([Promise.all([replied, idle]), stopped]);
      return { reply, iopub: this.iopubByParent.get(id) ?? [] };
    } finally {
      clearTimeout(timer);
      this.pending.delete(cancel);
      options.signal?.removeEventListener('abort', onAbort);
      this.replyWaiters.delete(id);
      this.idleWaiters.delete(id);
      this.iopubListeners.delete(id);
      this.inputHandlers.delete(id);
      this.iopubByParent.delete(id);
    }
  }

  /**
   * Sends a message that has no reply (comm_open, comm_msg, comm_close) and resolves with the
   * IOPub messages up to its idle status; `reply` is the message sent.
   */
  notify(msgType: string, content: JsonObject, timeoutMs?: number): Promise<RequestResult> {
    return this.request('shell', msgType, content, { timeoutMs, expectReply: false });
  }

  /** Runs code and collects its outputs. */
  execute(code: string, options: ExecuteOptions = {}): Promise<RequestResult> {
    return this.request(
      'shell',
      'execute_request',
      {
        code,
        silent: options.silent ?? false,
        store_history: options.store_history ?? true,
        user_expressions: options.user_expressions ?? {},
        allow_stdin: options.allow_stdin ?? Boolean(options.onInput),
        stop_on_error: options.stop_on_error ?? true,
      },
      { timeoutMs: options.timeoutMs, onIopub: options.onIopub, onInput: options.onInput, signal: options.signal },
    );
  }

  /**
   * Sends one heartbeat and resolves with the round-trip time in ms; rejects when no echo comes
   * within a second. A REQ socket that missed its reply cannot send again, so after a miss the
   * heartbeat socket is replaced and the next ping works as the first.
   */
  async ping(): Promise<number> {
    const start = performance.now();
    try {
      await this.hb.send(Buffer.from('ping'));
      await this.hb.receive();
    } catch (error) {
      if (!this.closed) {
        this.hb.close();
        this.hb = new zmq.Request();
        this.configureHeartbeat();
        this.hb.connect(endpoint(this.info, 'hb'));
      }
      throw error;
    }
    return performance.now() - start;
  }

  /** Closes every socket; requests in flight reject. */
  close(): void {
    this.closed = true;
    for (const cancel of this.pending) cancel(new Error('the kernel client was closed'));
    this.pending.clear();
    for (const socket of [...Object.values(this.sockets), this.iopub, this.hb]) socket.close();
  }
}

/** The text of every stream message of a name, concatenated. */
export function streamText(iopub: Message[], name: 'stdout' | 'stderr'): string {
  return iopub
    .filter((m) => m.header.msg_type === 'stream' && m.content.name === name)
    .map((m) => String(m.content.text))
    .join('');
}

/** The first IOPub message of a type. */
export function first(iopub: Message[], msgType: string): Message | undefined {
  return iopub.find((m) => m.header.msg_type === msgType);
}

/**
 * The kernel's five ZeroMQ sockets, bound to the endpoints of a connection file.
 * shell, control and stdin are ROUTER sockets, iopub is a PUB socket and hb a REP echo. When the
 * connection file carries CurveZMQ keys, all five are Curve servers (transport encryption).
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html#introduction
 */
import * as zmq from 'zeromq';
import { curveKeys, endpoint, type Channel, type ConnectionInfo } from './connection.js';
import { makeCurveServer } from './curve.js';
import { decode, encode, WireError } from './codec.js';
import type { Message } from './messages.js';
import { Signer } from './signing.js';

/** Where the sockets report what they drop. */
export type Logger = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

/** A new IOPub subscription (JEP 65): the kernel answers with `iopub_welcome`. */
export type SubscribeHandler = (topic: Buffer) => void;

/** A received message and the channel it came on. */
export type MessageHandler = (channel: 'shell' | 'control' | 'stdin', message: Message) => void;

/**
 * Serialises sends on one socket: zeromq.js allows a single send in flight per socket, and
 * replies, streams and status messages are produced concurrently.
 */
class SendQueue {
  private tail: Promise<void> = Promise.resolve();
  constructor(private readonly socket: zmq.Writable, private readonly log: Logger, private readonly name: string) {}

  push(frames: Buffer[]): Promise<void> {
    this.tail = this.tail.then(
      () => this.socket.send(frames),
    ).catch((error: unknown) => {
      this.log('error', `${this.name}: send failed: ${(error as Error).message}`);
    });
    return this.tail;
  }
}

/** The bound sockets of a running kernel. */
export class KernelSockets {
  readonly signer: Signer;
  private readonly shell = new zmq.Router();
  private readonly control = new zmq.Router();
  private readonly stdin = new zmq.Router();
  private readonly iopub = new zmq.XPublisher();
  private readonly hb = new zmq.Reply();
  private readonly queues: Record<'shell' | 'control' | 'stdin' | 'iopub', SendQueue>;
  private closed = false;
  /** Whether every socket is a CurveZMQ server (the connection file carried keys). */
  readonly encrypted: boolean;

  constructor(private readonly info: ConnectionInfo, private readonly log: Logger) {
    this.signer = new Signer(info.key, info.signature_scheme);
    this.queues = {
      shell: new SendQueue(this.shell, log, 'shell'),
      control: new SendQueue(this.control, log, 'control'),
      stdin: new SendQueue(this.stdin, log, 'stdin'),
      iopub: new SendQueue(this.iopub, log, 'iopub'),
    };
    const keys = curveKeys(info);
    this.encrypted = keys !== undefined;
    for (const socket of [this.shell, this.control, this.stdin, this.iopub, this.hb]) {
      socket.linger = 0;
      if (keys) makeCurveServer(socket, keys);
    }
  }

  /** Binds every socket to exactly the transport/ip/port the connection file names. */
  async bind(): Promise<void> {
    const sockets: Array<[Channel, zmq.Socket]> = [
      ['shell', this.shell],
      ['control', this.control],
      ['stdin', this.stdin],
      ['iopub', this.iopub],
      ['hb', this.hb],
    ];
    await Promise.all(sockets.map(([channel, socket]) => socket.bind(endpoint(this.info, channel))));
  }

  /** Starts the receive loops; `onMessage` gets every verified message, malformed ones are logged. */
  listen(onMessage: MessageHandler, onSubscribe?: SubscribeHandler): void {
    void this.echoHeartbeats();
    void this.watchSubscriptions(onSubscribe);
    for (const [channel, socket] of [
      ['shell', this.shell],
      ['control', this.control],
      ['stdin', this.stdin],
    ] as const) {
      void this.receive(channel, socket, onMessage);
    }
  }

  private async echoHeartbeats(): Promise<void> {
    try {
      for await (const frames of this.hb) await this.hb.send(frames);
    } catch (error) {
      if (!this.closed) this.log('error', `hb: ${(error as Error).message}`);
    }
  }

  /** IOPub is an XPUB socket so that subscriptions are seen and welcomed (JEP 65). */
  private async watchSubscriptions(onSubscribe?: SubscribeHandler): Promise<void> {
    try {
      for await (const [frame] of this.iopub) {
        if (frame.length > 0 && frame[0] === 1) onSubscribe?.(frame.subarray(1));
      }
    } catch (error) {
      if (!this.closed) this.log('error', `iopub: subscription loop ended: ${(error as Error).message}`);
    }
  }

  private async receive(channel: 'shell' | 'control' | 'stdin', socket: zmq.Router, onMessage: MessageHandler): Promise<void> {
    try {
      for await (const frames of socket) {
        let message: Message;
        try {
          message = decode(frames, this.signer);
        } catch (error) {
          if (error instanceof WireError) {
            this.log('warn', `${channel}: dropped message (${error.reason}): ${error.message}`);
            continue;
          }
          throw error;
        }
        try {
          onMessage(channel, message);
        } catch (error) {
          this.log('error', `${channel}: handler failed on ${message.header.msg_type}: ${(error as Error).stack}`);
        }
      }
    } catch (error) {
      if (!this.closed) this.log('error', `${channel}: receive loop ended: ${(error as Error).message}`);
    }
  }

  /** Signs and sends a message on a channel; resolves once handed to ZeroMQ. */
  send(channel: 'shell' | 'control' | 'stdin' | 'iopub', message: Message): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.queues[channel].push(encode(message, this.signer));
  }

  /** Closes every socket. */
  close(): void {
    this.closed = true;
    for (const socket of [this.shell, this.control, this.stdin, this.iopub, this.hb]) socket.close();
  }
}

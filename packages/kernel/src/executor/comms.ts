/**
 * The kernel side of Jupyter comms, as used from notebook code and magics.
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html#custom-messages
 */
import { randomUUID } from 'node:crypto';
import type { CommMessage, FromWorker } from './messages.js';

type Data = Record<string, unknown>;
type MessageListener = (data: Data, buffers: Uint8Array[], metadata: Data) => void;

/** One open comm. */
export class Comm {
  private readonly listeners: MessageListener[] = [];
  private readonly closeListeners: Array<(data: Data) => void> = [];
  private open = true;

  constructor(readonly commId: string, readonly targetName: string, private readonly manager: CommManager) {}

  /** True until either side closes the comm. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Sends `comm_msg` to the frontend. */
  send(data: Data = {}, metadata: Data = {}, buffers: Uint8Array[] = []): void {
    if (!this.open) throw new Error(`comm ${this.commId} (${this.targetName}) is closed`);
    this.manager.post({ type: 'comm', event: 'msg', commId: this.commId, data, metadata, buffers });
  }

  /** Sends `comm_close` and forgets the comm. */
  close(data: Data = {}): void {
    if (!this.open) return;
    this.manager.post({ type: 'comm', event: 'close', commId: this.commId, data });
    this.closed(data);
  }

  /** Registers a listener for messages from the frontend. */
  onMsg(listener: MessageListener): this {
    this.listeners.push(listener);
    return this;
  }

  /** Registers a listener for the comm being closed. */
  onClose(listener: (data: Data) => void): this {
    this.closeListeners.push(listener);
    return this;
  }

  /** @internal */
  received(data: Data, buffers: Uint8Array[], metadata: Data): void {
    for (const listener of this.listeners) listener(data, buffers, metadata);
  }

  /** @internal */
  closed(data: Data): void {
    this.open = false;
    this.manager.forget(this.commId);
    for (const listener of this.closeListeners) listener(data);
  }
}

/** A target the frontend may open comms to. */
export type CommTargetHandler = (comm: Comm, data: Data) => void;

/** Comms of this kernel, and the targets the frontend may open. */
export class CommManager {
  private readonly comms = new Map<string, Comm>();
  private readonly targets = new Map<string, CommTargetHandler>();

  constructor(readonly post: (message: FromWorker) => void) {}

  /** Opens a comm from the kernel to a frontend target. */
  open(targetName: string, data: Data = {}, metadata: Data = {}): Comm {
    const comm = new Comm(randomUUID(), targetName, this);
    this.comms.set(comm.commId, comm);
    this.post({ type: 'comm', event: 'open', commId: comm.commId, targetName, data, metadata });
    return comm;
  }

  /** Accepts comms the frontend opens to `targetName`. */
  registerTarget(targetName: string, handler: CommTargetHandler): void {
    this.targets.set(targetName, handler);
  }

  /** Stops accepting comms to `targetName`. */
  unregisterTarget(targetName: string): void {
    this.targets.delete(targetName);
  }

  /** The open comm with this id. */
  get(commId: string): Comm | undefined {
    return this.comms.get(commId);
  }

  /** @internal */
  forget(commId: string): void {
    this.comms.delete(commId);
  }

  /** Handles a comm message from the frontend; an open to an unknown target is closed at once. */
  receive(message: CommMessage): void {
    if (message.event === 'open') {
      const handler = message.targetName ? this.targets.get(message.targetName) : undefined;
      const comm = new Comm(message.commId, message.targetName ?? '', this);
      if (!handler) {
        this.post({ type: 'comm', event: 'close', commId: message.commId, data: {} });
        return;
      }
      this.comms.set(comm.commId, comm);
      handler(comm, message.data);
      return;
    }
    const comm = this.comms.get(message.commId);
    if (!comm) return;
    if (message.event === 'msg') comm.received(message.data, message.buffers ?? [], message.metadata ?? {});
    else comm.closed(message.data);
  }
}

/**
 * Request/reply over a worker thread's message port. Both sides may ask; each request carries an
 * id and is answered once with a value or an error message.
 */
import type { MessagePort, Worker } from 'node:worker_threads';

/** A request from one side of a worker boundary to the other. */
export interface RpcRequest {
  type: 'request';
  reqId: number;
  method: string;
  params: unknown;
}

/** The answer to an {@link RpcRequest}. */
export interface RpcReply {
  type: 'reply';
  replyTo: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

type Port = Pick<MessagePort, 'postMessage'> | Pick<Worker, 'postMessage'>;

/** Tracks requests in flight from this side and answers the other side's. */
export class Rpc {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(private readonly port: Port) {}

  /** Sends a request and resolves with the other side's answer. */
  request<T = unknown>(method: string, params: unknown = {}): Promise<T> {
    const reqId = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(reqId, { resolve: resolve as (value: unknown) => void, reject });
      this.port.postMessage({ type: 'request', reqId, method, params } satisfies RpcRequest);
    });
  }

  /** Feeds a reply from the other side; returns true when it was one. */
  settle(message: { type?: string }): boolean {
    if (message.type !== 'reply') return false;
    const reply = message as RpcReply;
    const waiter = this.pending.get(reply.replyTo);
    if (!waiter) return true;
    this.pending.delete(reply.replyTo);
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(new Error(reply.error ?? 'request failed'));
    return true;
  }

  /** Answers a request from the other side with the handler's result or error. */
  async answer(request: RpcRequest, handler: (method: string, params: unknown) => unknown): Promise<void> {
    let reply: RpcReply;
    try {
      reply = { type: 'reply', replyTo: request.reqId, ok: true, value: await handler(request.method, request.params) };
    } catch (error) {
      reply = { type: 'reply', replyTo: request.reqId, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    this.port.postMessage(reply);
  }

  /** Rejects every request in flight, e.g. when the other side died. */
  failAll(reason: string): void {
    for (const waiter of this.pending.values()) waiter.reject(new Error(reason));
    this.pending.clear();
  }
}

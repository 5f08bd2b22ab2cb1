/**
 * The main thread's handle on the executor worker: starts it, sends cells, relays its output,
 * answers its requests, and interrupts it. Interrupting first asks the worker to end the cell (which
 * is enough for an awaited promise that never settles); if the worker does not answer because it is
 * stuck in synchronous code, V8's `Runtime.terminateExecution` is sent through the inspector, which
 * unwinds that code and leaves the worker, and every variable in it, alive.
 */
import { EventEmitter } from 'node:events';
import { Session } from 'node:inspector';
import * as path from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { Rpc, type RpcRequest } from '../worker-rpc.js';
import type { CommMessage, DoneMessage, ExtensionLoad, FromWorker, MagicNames, ToWorker } from './messages.js';

/** Events the executor relays from the worker. */
export interface ExecutorEvents {
  output: [FromWorker];
  request: [RpcRequest];
  exit: [number];
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** How long an interrupt waits for the worker's own answer before terminating its code. */
const INTERRUPT_GRACE_MS = 150;

/** The executor worker as seen from the main thread. */
export class Executor extends EventEmitter<ExecutorEvents> {
  private worker: Worker | undefined;
  private rpc: Rpc | undefined;
  private readonly waiting = new Map<number, (done: DoneMessage) => void>();
  private nextId = 1;
  private inspector: Session | undefined;
  private inspectorWorkerSession: string | undefined;
  private ackWaiters: Array<() => void> = [];
  /** The magics the executor knows (updated when `%load_ext` adds some). */
  magics: MagicNames = { code: [], line: [], cell: [] };
  /** The default extensions the realm loaded at start (see `HYPERLAB_EXTENSIONS`). */
  extensions: ExtensionLoad[] = [];

  /** Starts the worker and resolves when its realm is ready. */
  start(): Promise<void> {
    const worker = new Worker(path.join(__dirname, 'worker.js'), { env: SHARE_ENV, stdout: false, stderr: false, name: 'hyperlab-executor' });
    this.worker = worker;
    this.rpc = new Rpc(worker);
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          this.magics = message.magics;
          this.extensions = message.extensions;
          worker.off('error', reject);
          worker.on('error', (error) => this.emit('output', { type: 'stream', name: 'stderr', text: `executor error: ${error.stack}\n` }));
          resolve();
          return;
        }
        this.dispatch(message);
      });
      worker.on('exit', (code) => {
        for (const waiter of this.waiting.values()) {
          waiter({ type: 'done', id: -1, status: 'error', error: { ename: 'KernelError', evalue: `the executor stopped (exit code ${code})`, stack: '' } });
        }
        this.waiting.clear();
        this.emit('exit', code);
      });
    });
  }

  private dispatch(message: FromWorker): void {
    switch (message.type) {
      case 'done': {
        const waiter = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        waiter?.(message);
        return;
      }
      case 'interrupt-ack':
        for (const waiter of this.ackWaiters.splice(0)) waiter();
        return;
      case 'magics':
        this.magics = message.magics;
        return;
      case 'request':
        this.emit('request', message as RpcRequest);
        return;
      case 'reply':
        this.rpc?.settle(message);
        return;
      default:
        this.emit('output', message);
    }
  }

  /** Sends a cell (or cell magic, or expressions) and resolves when the worker reports it done. */
  run(message: WithoutId<Extract<ToWorker, { type: 'run' | 'cell-magic' | 'expressions' }>>): Promise<DoneMessage> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.post({ ...message, id } as ToWorker);
    });
  }

  /** Answers a request the worker made. */
  answer(request: RpcRequest, handler: (method: string, params: unknown) => unknown): Promise<void> {
    if (!this.rpc) throw new Error('the executor is not started');
    return this.rpc.answer(request, handler);
  }

  /** Forwards a comm message from the frontend; resolves once the worker's handlers ran. */
  comm(message: CommMessage): Promise<DoneMessage> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.post({ ...message, id });
    });
  }

  /** True while a cell has been sent and not reported done. */
  get busy(): boolean {
    return this.waiting.size > 0;
  }

  private post(message: ToWorker): void {
    this.worker?.postMessage(message);
  }

  /**
   * Interrupts the running cell. Resolves when the worker has acknowledged; the cell's own
   * `run()` promise then settles with status `interrupted`.
   */
  async interrupt(): Promise<void> {
    if (!this.worker) return;
    const acked = new Promise<void>((resolve) => this.ackWaiters.push(resolve));
    this.post({ type: 'interrupt' });
    const answered = await Promise.race([acked.then(() => true), delay(INTERRUPT_GRACE_MS).then(() => false)]);
    if (answered) return;
    // The worker is running synchronous code: stop it, then the queued interrupt is handled.
    await this.terminateExecution();
    // A message port stops draining its queue when a handler is terminated; a second message
    // wakes it (the worker treats a repeated interrupt as a no-op beyond acknowledging it).
    this.post({ type: 'interrupt' });
    await Promise.race([acked, delay(2000)]);
  }

  private async terminateExecution(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    if (!this.inspector) {
      this.inspector = new Session();
      this.inspector.connect();
      this.inspector.on('NodeWorker.attachedToWorker', (event: { params: { sessionId: string; workerInfo: { title: string } } }) => {
        // The inspector's workerId is its own counter; the title carries the thread id: "[worker 2] name".
        const thread = /\[worker (\d+)\]/.exec(event.params.workerInfo.title)?.[1];
        if (Number(thread) === this.worker?.threadId) this.inspectorWorkerSession = event.params.sessionId;
      });
      this.inspector.on('NodeWorker.detachedFromWorker', (event: { params: { sessionId: string } }) => {
        if (event.params.sessionId === this.inspectorWorkerSession) this.inspectorWorkerSession = undefined;
      });
    }
    if (!this.inspectorWorkerSession) {
      await new Promise<void>((resolve) => this.inspector!.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, () => resolve()));
      for (let i = 0; i < 50 && !this.inspectorWorkerSession; i++) await delay(10);
    }
    if (!this.inspectorWorkerSession) throw new Error('could not attach to the executor to interrupt it');
    const message = JSON.stringify({ id: 1, method: 'Runtime.terminateExecution', params: {} });
    await new Promise<void>((resolve) =>
      this.inspector!.post('NodeWorker.sendMessageToWorker', { sessionId: this.inspectorWorkerSession, message }, () => resolve()),
    );
  }

  /** Stops the worker. */
  async stop(): Promise<void> {
    this.inspector?.disconnect();
    await this.worker?.terminate();
    this.worker = undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

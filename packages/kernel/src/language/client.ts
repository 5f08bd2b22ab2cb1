/**
 * The main thread's handles on the language workers: one type-checks, completes and inspects,
 * the other compiles.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Rpc } from '../worker-rpc.js';
import type { CompiledCell } from '../executor/transform.js';
import type { CellDiagnostic, CompletionResult, InspectResult, IsCompleteResult } from './service.js';

/** The result of compiling a cell: JavaScript, or the syntax error that stopped it. */
export type CompileResult = { ok: true; cell: CompiledCell } | { ok: false; message: string; line: number; column: number };

/** What a language worker is started with. */
export interface LanguageWorkerOptions {
  /** The notebook's directory. */
  cwd: string;
  /** `@types` folders of the kernel itself. */
  kernelTypeRoots: string[];
  /** Declaration text of the kernel's globals. */
  globalsDts: string;
}

/** A language worker thread and the requests in flight to it. */
class WorkerHandle {
  private readonly worker: Worker;
  readonly rpc: Rpc;

  constructor(options: LanguageWorkerOptions & { role: 'language' | 'compile' }, name: string) {
    this.worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: options, name });
    this.worker.unref();
    this.rpc = new Rpc(this.worker);
    this.worker.on('message', (message: { type?: string }) => this.rpc.settle(message));
    this.worker.on('error', (error) => this.rpc.failAll(`${name} worker failed: ${error.message}`));
    this.worker.on('exit', (code) => this.rpc.failAll(`${name} worker exited with code ${code}`));
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * Compiles cells to JavaScript in a worker of its own, which loads TypeScript but never builds a
 * program: a cell can run while the language service is still warming up or checking.
 */
export class CompilerClient {
  private readonly handle: WorkerHandle;

  constructor(options: LanguageWorkerOptions) {
    this.handle = new WorkerHandle({ ...options, role: 'compile' }, 'hyperlab-compile');
  }

  /** Resolves once the worker has loaded TypeScript and can compile. */
  ready(): Promise<void> {
    return this.handle.rpc.request('ready');
  }
  /** Compiles a cell (or an expression) named `filename` in tracebacks. */
  compile(code: string, filename: string): Promise<CompileResult> {
    return this.handle.rpc.request('compile', { code, filename });
  }
  /** Ends the worker. */
  stop(): Promise<void> {
    return this.handle.stop();
  }
}

/** Calls into the language worker; every method is asynchronous and requests are answered in order. */
export class LanguageClient {
  private readonly handle: WorkerHandle;
  private readonly rpc: Rpc;

  constructor(options: LanguageWorkerOptions) {
    this.handle = new WorkerHandle({ ...options, role: 'language' }, 'hyperlab-language');
    this.rpc = this.handle.rpc;
  }

  check(code: string): Promise<CellDiagnostic[]> {
    return this.rpc.request('check', { code });
  }
  commit(code: string, executionCount: number): Promise<void> {
    return this.rpc.request('commit', { code, executionCount });
  }
  complete(code: string, cursor: number): Promise<CompletionResult> {
    return this.rpc.request('complete', { code, cursor });
  }
  inspect(code: string, cursor: number, detailLevel: 0 | 1): Promise<InspectResult> {
    return this.rpc.request('inspect', { code, cursor, detailLevel });
  }
  isComplete(code: string): Promise<IsCompleteResult> {
    return this.rpc.request('isComplete', { code });
  }
  declareGlobal(name: string, type: string): Promise<void> {
    return this.rpc.request('declareGlobal', { name, type });
  }
  declaredNames(): Promise<Array<{ name: string; kind: string; cell: number; type: string }>> {
    return this.rpc.request('declaredNames');
  }
  configErrors(): Promise<string[]> {
    return this.rpc.request('configErrors');
  }
  setCwd(dir: string): Promise<void> {
    return this.rpc.request('setCwd', { dir });
  }
  reset(): Promise<void> {
    return this.rpc.request('reset');
  }
  /** Loads the types of `modules` (e.g. the magics packages) into the program ahead of use. */
  preloadTypes(modules: string[]): Promise<void> {
    return this.rpc.request('preloadTypes', { modules });
  }

  warmUp(): Promise<void> {
    return this.rpc.request('warmUp');
  }
  stop(): Promise<void> {
    return this.handle.stop();
  }
}

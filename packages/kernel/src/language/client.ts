/**
 * The main thread's handle on the language worker.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Rpc } from '../worker-rpc.js';
import type { CompiledCell } from '../executor/transform.js';
import type { CellDiagnostic, CompletionResult, InspectResult, IsCompleteResult } from './service.js';

/** The result of compiling a cell: JavaScript, or the syntax error that stopped it. */
export type CompileResult = { ok: true; cell: CompiledCell } | { ok: false; message: string; line: number; column: number };

/** Calls into the language worker; every method is asynchronous. */
export class LanguageClient {
  private readonly worker: Worker;
  private readonly rpc: Rpc;

  constructor(options: { cwd: string; kernelTypeRoots: string[]; globalsDts: string }) {
    this.worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: options, name: 'hyperlab-language' });
    this.worker.unref();
    this.rpc = new Rpc(this.worker);
    this.worker.on('message', (message: { type?: string }) => this.rpc.settle(message));
    this.worker.on('error', (error) => this.rpc.failAll(`language worker failed: ${error.message}`));
    this.worker.on('exit', (code) => this.rpc.failAll(`language worker exited with code ${code}`));
  }

  compile(code: string, filename: string): Promise<CompileResult> {
    return this.rpc.request('compile', { code, filename });
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
  warmUp(): Promise<void> {
    return this.rpc.request('warmUp');
  }
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * The language worker: TypeScript's compiler and language service in their own thread, so that
 * loading TypeScript and checking cells never delays the kernel's sockets.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Rpc, type RpcRequest } from '../worker-rpc.js';
import { CellSyntaxError, compileCell } from '../executor/transform.js';
import { NotebookLanguageService } from './service.js';

if (!parentPort) throw new Error('language/worker.js must run in a worker thread');
const port = parentPort;
const rpc = new Rpc(port);
const options = workerData as { cwd: string; kernelTypeRoots: string[]; globalsDts: string };
const service = new NotebookLanguageService(options);

const methods: Record<string, (params: never) => unknown> = {
  compile: ({ code, filename }: { code: string; filename: string }) => {
    try {
      return { ok: true, cell: compileCell(code, filename) };
    } catch (error) {
      if (error instanceof CellSyntaxError) return { ok: false, message: error.message, line: error.line, column: error.column };
      throw error;
    }
  },
  check: ({ code }: { code: string }) => service.check(code),
  commit: ({ code, executionCount }: { code: string; executionCount: number }) => service.commit(code, executionCount),
  complete: ({ code, cursor }: { code: string; cursor: number }) => service.complete(code, cursor),
  inspect: ({ code, cursor, detailLevel }: { code: string; cursor: number; detailLevel: 0 | 1 }) => service.inspect(code, cursor, detailLevel),
  isComplete: ({ code }: { code: string }) => service.isComplete(code),
  declareGlobal: ({ name, type }: { name: string; type: string }) => service.declareGlobal(name, type),
  declaredNames: () => service.declaredNames(),
  configErrors: () => service.configErrors(),
  setCwd: ({ dir }: { dir: string }) => service.setCwd(dir),
  reset: () => service.reset(),
  warmUp: () => service.warmUp(),
};

port.on('message', (message: RpcRequest) => {
  if (message.type !== 'request') return;
  void rpc.answer(message, (method, params) => {
    const handler = methods[method];
    if (!handler) throw new Error(`the language worker has no method ${method}`);
    return handler(params as never);
  });
});

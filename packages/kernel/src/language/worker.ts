/**
 * The language worker: TypeScript's compiler and language service in their own thread, so that
 * loading TypeScript and checking cells never delays the kernel's sockets.
 *
 * The kernel starts two: one that type-checks, completes and inspects (`role: 'language'`), and
 * one that only compiles cells to JavaScript (`role: 'compile'`), so that a cell never waits
 * behind the language service's warm-up or a slow check to be run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Rpc, type RpcRequest } from '../worker-rpc.js';
import type * as Transform from '../executor/transform.js';
import type { NotebookLanguageService } from './service.js';

if (!parentPort) throw new Error('language/worker.js must run in a worker thread');
const port = parentPort;
const rpc = new Rpc(port);
const options = workerData as { cwd: string; kernelTypeRoots: string[]; globalsDts: string; role?: 'language' | 'compile' };

// TypeScript (~9 MB of JavaScript) loads when first needed: at once in the compile worker; in the
// language worker with its first request, which the kernel sends once cells can run (the compile
// worker and the executor are ready), so that on a shared machine loading it twice does not
// delay the first cell.
let transform: typeof Transform | undefined;
function compiler(): typeof Transform {
  return (transform ??= require('../executor/transform.js') as typeof Transform);
}
if (options.role === 'compile') compiler();

let service: NotebookLanguageService | undefined;
/** The language service; the compile worker has none. */
function language(): NotebookLanguageService {
  if (options.role === 'compile') throw new Error('the compile worker has no language service');
  if (!service) {
    const { NotebookLanguageService: Service } = require('./service.js') as typeof import('./service.js');
    service = new Service(options);
  }
  return service;
}

let warmPending = false;
/**
 * After a cell is committed, the next check needs a program that contains it: build it while the
 * kernel is idle (a check of the empty cell), so that the next cell can be checked speculatively.
 * Requests that arrive meanwhile wait, but a check would have built the same program.
 */
function warmAfterCommit(): void {
  if (warmPending) return;
  warmPending = true;
  setImmediate(() => {
    warmPending = false;
    try {
      language().warmUp();
    } catch {
      // The next check builds the program itself and reports what went wrong.
    }
  });
}

const methods: Record<string, (params: never) => unknown> = {
  ready: () => true,
  compile: ({ code, filename }: { code: string; filename: string }) => {
    const { CellSyntaxError, compileCell } = compiler();
    try {
      return { ok: true, cell: compileCell(code, filename) };
    } catch (error) {
      if (error instanceof CellSyntaxError) return { ok: false, message: error.message, line: error.line, column: error.column };
      throw error;
    }
  },
  check: ({ code }: { code: string }) => language().check(code),
  commit: ({ code, executionCount }: { code: string; executionCount: number }) => {
    if (language().commit(code, executionCount)) warmAfterCommit();
  },
  complete: ({ code, cursor }: { code: string; cursor: number }) => language().complete(code, cursor),
  inspect: ({ code, cursor, detailLevel }: { code: string; cursor: number; detailLevel: 0 | 1 }) => language().inspect(code, cursor, detailLevel),
  isComplete: ({ code }: { code: string }) => language().isComplete(code),
  declareGlobal: ({ name, type }: { name: string; type: string }) => {
    language().declareGlobal(name, type);
    // A new global is a new program: build it now rather than when the next cell is checked.
    warmAfterCommit();
  },
  preloadTypes: ({ modules }: { modules: string[] }) => language().preloadTypes(modules),
  declaredNames: () => language().declaredNames(),
  configErrors: () => language().configErrors(),
  setCwd: ({ dir }: { dir: string }) => language().setCwd(dir),
  reset: () => language().reset(),
  warmUp: () => language().warmUp(),
};

port.on('message', (message: RpcRequest) => {
  if (message.type !== 'request') return;
  void rpc.answer(message, (method, params) => {
    const handler = methods[method];
    if (!handler) throw new Error(`the language worker has no method ${method}`);
    return handler(params as never);
  });
});

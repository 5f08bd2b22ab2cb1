/**
 * The entry of a trial child process (forked by `trial-process.ts` for `LocalEngine` and for
 * `hyperlab worker`). It loads TensorFlow.js once, selects the backend named by
 * `HYPERLAB_BACKEND` (`node`, `wasm`, `cpu` or `auto`; the parent always sets it), says `ready`
 * (or sends one `error` and exits when that backend cannot be used),
 * then runs one {@link RunMessage} at a time with {@link runTrialHere}, sending its reports and its
 * result or error back as JSON (`trial-messages.ts`). It exits when its parent goes away (the IPC
 * channel closes), and is stopped by signals: the engine sends SIGTERM, then SIGKILL.
 *
 * Not an API: run only as a forked child.
 */
import { runTrialHere } from './engine.js';
import { BACKEND_ENV, toWireError, type ChildMessage, type RunMessage } from './trial-messages.js';
import { backendChosen, loadCore } from '../session.js';

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function prepareBackend(): Promise<string> {
  const core = loadCore();
  const requested = process.env[BACKEND_ENV] || 'auto';
  const ready = core.setBackend(requested as Parameters<typeof core.setBackend>[0]).then(() => undefined);
  // The magics' ensureBackend() keeps this choice instead of making its own.
  backendChosen(ready);
  await ready;
  return core.backendInfo().name;
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('local-worker.js runs as a forked child of a HyperLab sweep engine');
  process.on('disconnect', () => process.exit(0));
  try {
    send({ type: 'ready', backend: await prepareBackend() });
  } catch (error) {
    // The parent reads an error before `ready` as "this process cannot run trials".
    const wire = toWireError(error);
    wire.message = `the trial process could not select backend "${process.env[BACKEND_ENV] || 'auto'}": ${wire.message}`;
    send({ type: 'error', error: wire });
    process.disconnect();
    return;
  }
  let busy = false;
  process.on('message', (message: RunMessage) => {
    if (message?.type !== 'run') return;
    if (busy) {
      send({ type: 'error', error: { name: 'Error', message: `trial process ${process.pid} is already running a trial` } });
      return;
    }
    busy = true;
    const controller = new AbortController();
    runTrialHere(message.spec, { signal: controller.signal, onReport: (report) => send({ type: 'report', report }) })
      .then(
        (result) => send({ type: 'result', result }),
        (error: unknown) => send({ type: 'error', error: toWireError(error) }),
      )
      .finally(() => {
        busy = false;
      });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

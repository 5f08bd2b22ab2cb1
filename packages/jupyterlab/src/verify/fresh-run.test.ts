/**
 * The fresh re-run against a stand-in session manager and kernel that answer like a Jupyter
 * server: session path and kernel, execute requests, stop on error, shutdown on every path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Session } from '@jupyterlab/services';
import { RUN_RECORD_MIME } from '../records';
import { runFresh, verifySessionPath, type FreshRunOptions } from './fresh-run';

type Reply = { status: 'ok' } | { status: 'error'; ename: string; evalue: string; traceback: string[] } | { status: 'aborted' };
interface Behaviour {
  iopub?: Array<{ header: { msg_type: string }; content: Record<string, unknown> }>;
  reply?: Reply;
  /** The future is cancelled (the kernel died). */
  die?: boolean;
}

const record = (name: string) => ({ schema: 'hyperlab.run/v1', id: name, name, config: {}, metrics: { acc: 1 }, contentHash: `h-${name}` });
const recordMsg = (name: string) => ({ header: { msg_type: 'display_data' }, content: { data: { [RUN_RECORD_MIME]: record(name) }, metadata: {} } });

/** A session manager whose kernel runs `behave(code)`; it records what was asked of it. */
function fakeServer(behave: (code: string) => Behaviour = () => ({})) {
  const log = {
    started: [] as Session.ISessionOptions[],
    executed: [] as Array<{ code: string; stop_on_error?: boolean; store_history?: boolean }>,
    interrupted: 0,
    shutdown: 0,
    disposed: 0,
  };
  const kernel = {
    interrupt: async () => void log.interrupted++,
    requestExecute(content: { code: string; stop_on_error?: boolean; store_history?: boolean }) {
      log.executed.push(content);
      const b = behave(content.code);
      const future: { onIOPub?: (msg: unknown) => void; done: Promise<unknown> } = { done: Promise.resolve() };
      future.done = new Promise((resolve, reject) =>
        setTimeout(() => {
          for (const m of b.iopub ?? []) future.onIOPub?.(m);
          if (b.die) reject(new Error('Canceled future for execute_request message before replies were done'));
          else resolve({ content: b.reply ?? { status: 'ok' } });
        }, 1),
      );
      return future;
    },
  };
  const sessions = {
    startNew: async (options: Session.ISessionOptions) => {
      log.started.push(options);
      return {
        kernel,
        shutdown: async () => void log.shutdown++,
        dispose: () => void log.disposed++,
      } as unknown as Session.ISessionConnection;
    },
  };
  return { sessions, log };
}

const options = (sessions: FreshRunOptions['sessions'], cells: string[], extra: Partial<FreshRunOptions> = {}): FreshRunOptions => ({
  sessions,
  notebookPath: 'notebooks/quickstart.ipynb',
  kernelName: 'hyperlab',
  cells: cells.map((source, i) => ({ cellIndex: i * 2, source })),
  uuid: () => 'u-1',
  ...extra,
});

test('the session path is hidden, unique and in the notebook folder', () => {
  assert.equal(verifySessionPath('notebooks/quickstart.ipynb', 'abc'), 'notebooks/.hyperlab-verify-abc.ipynb');
  assert.equal(verifySessionPath('a/b/c.ipynb', 'x'), 'a/b/.hyperlab-verify-x.ipynb');
  assert.equal(verifySessionPath('top.ipynb', 'x'), '.hyperlab-verify-x.ipynb');
});

test('starts a verify session with the kernelspec, runs every cell in order with stop_on_error, collects records, shuts down', async () => {
  const { sessions, log } = fakeServer((code) => ({ iopub: code.startsWith('%%adapter') ? [recordMsg(code.split(' ')[1])] : [] }));
  const progress: Array<[number, number, number]> = [];
  const run = await runFresh(options(sessions, ['import x', '%%adapter base', '%%adapter lora'], { onProgress: (k, n, cell) => progress.push([k, n, cell]) }));
  assert.deepEqual(log.started, [{ path: 'notebooks/.hyperlab-verify-u-1.ipynb', type: 'notebook', name: 'verify', kernel: { name: 'hyperlab' } }]);
  assert.deepEqual(log.executed, [
    { code: 'import x', stop_on_error: true, store_history: true },
    { code: '%%adapter base', stop_on_error: true, store_history: true },
    { code: '%%adapter lora', stop_on_error: true, store_history: true },
  ]);
  assert.deepEqual(progress, [[1, 3, 0], [2, 3, 2], [3, 3, 4]]);
  assert.deepEqual(run.records.map((r) => [r.cellIndex, r.record.name]), [[2, 'base'], [4, 'lora']]);
  assert.deepEqual([run.executed, run.error, run.cancelled], [3, undefined, false]);
  assert.deepEqual([log.shutdown, log.disposed], [1, 1]);
});

test('stops at the first error, reports its cell, and still shuts down', async () => {
  const { sessions, log } = fakeServer((code) =>
    code === 'boom' ? { iopub: [{ header: { msg_type: 'error' }, content: { ename: 'Error', evalue: 'boom', traceback: [] } }], reply: { status: 'error', ename: 'Error', evalue: 'boom', traceback: [] } } : { iopub: [recordMsg(code)] },
  );
  const run = await runFresh(options(sessions, ['a', 'boom', 'c']));
  assert.deepEqual(log.executed.map((e) => e.code), ['a', 'boom']);
  assert.deepEqual(run.error, { cellIndex: 2, ename: 'Error', evalue: 'boom' });
  assert.equal(run.executed, 2);
  assert.deepEqual(run.records.map((r) => r.record.name), ['a']);
  assert.equal(log.shutdown, 1);
});

test('a dead kernel (cancelled future) is an error at that cell; startNew failing starts nothing to shut down', async () => {
  const dead = fakeServer((code) => (code === 'crash' ? { die: true } : {}));
  const run = await runFresh(options(dead.sessions, ['ok', 'crash', 'never']));
  assert.equal(run.error?.cellIndex, 2);
  assert.equal(run.error?.ename, 'KernelError');
  assert.match(run.error?.evalue ?? '', /Canceled future/);
  assert.equal(dead.log.shutdown, 1);

  const failing = { startNew: async () => Promise.reject(new Error('No such kernel named nope')) };
  await assert.rejects(runFresh(options(failing, ['x'])), /No such kernel/);
});

test('an error seen only on IOPub (reply ok) still stops the run', async () => {
  const { sessions, log } = fakeServer((code) => (code === 'warn' ? { iopub: [{ header: { msg_type: 'error' }, content: { ename: 'TypeError', evalue: 'bad', traceback: [] } }] } : {}));
  const run = await runFresh(options(sessions, ['warn', 'next']));
  assert.deepEqual(run.error, { cellIndex: 0, ename: 'TypeError', evalue: 'bad' });
  assert.deepEqual(log.executed.map((e) => e.code), ['warn']);
});

test('cancel interrupts the kernel, runs no further cell, reports cancelled (not an error) and shuts down', async () => {
  let cancel: (() => void) | undefined;
  const { sessions, log } = fakeServer((code) => {
    if (code === 'slow') cancel?.();
    return code === 'slow' ? { reply: { status: 'error', ename: 'KeyboardInterrupt', evalue: '', traceback: [] } } : {};
  });
  const run = await runFresh(options(sessions, ['first', 'slow', 'never'], { onStarted: (c) => (cancel = c) }));
  assert.deepEqual(log.executed.map((e) => e.code), ['first', 'slow']);
  assert.equal(log.interrupted, 1);
  assert.deepEqual([run.cancelled, run.error], [true, undefined]);
  assert.equal(log.shutdown, 1);
});

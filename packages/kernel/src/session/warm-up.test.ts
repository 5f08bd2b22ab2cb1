/**
 * "Ready when it says so": the first cell after `kernel_info_reply` runs without waiting for the
 * language service's warm-up, and its type diagnostics still arrive before its `idle`.
 *
 * The notebook's `tsconfig.json` adds a large declaration package to `types`, so the warm-up
 * (which builds the first program) takes seconds longer than compiling and running a cell: the
 * order of the first cell's outputs then shows whether the run waited for it. Timing targets are
 * the kernel benchmark's business (scripts/bench/kernel), not this test's.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Message } from '../protocol/messages.js';
import { launchKernel, type LaunchedKernel } from '../client/launcher.js';

/** Declarations that take the language service seconds to parse and bind. */
function slowDeclarations(count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) {
    text += `interface Slow${i} { id: ${i}; name: string; next(step: number): Slow${i + 1}; items: ReadonlyArray<Slow${i}>; }\n`;
  }
  return `${text}interface Slow${count} {}\n`;
}

/** Index of the first IOPub message of `type` (and stream `name`), -1 if none. */
function indexOf(iopub: Message[], type: string, name?: string): number {
  return iopub.findIndex((m) => m.header.msg_type === type && (name === undefined || m.content.name === name));
}

describe('the first cell after kernel_info_reply', () => {
  let kernel: LaunchedKernel;
  let notebookDir: string;

  before(async () => {
    notebookDir = mkdtempSync(path.join(os.tmpdir(), 'hl-warm-up-'));
    const types = path.join(notebookDir, 'node_modules', '@types', 'slow-types');
    mkdirSync(types, { recursive: true });
    writeFileSync(path.join(types, 'index.d.ts'), slowDeclarations(20_000));
    writeFileSync(path.join(notebookDir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { types: ['node', 'slow-types'] } }));
    kernel = await launchKernel({ cwd: notebookDir });
  });

  after(async () => {
    await kernel.dispose();
    rmSync(notebookDir, { recursive: true, force: true });
  });

  test('runs and publishes its result before its type check; the diagnostics follow before the reply; later cells are checked first', async () => {
    const info = await kernel.client.request('shell', 'kernel_info_request', {});
    assert.equal(info.reply.content.status, 'ok');

    const firstCell = await kernel.client.execute('const early: string = 1;\n40 + 2');
    assert.equal(firstCell.reply.content.status, 'ok', 'warn mode: the cell runs despite its type error');
    const result = indexOf(firstCell.iopub, 'execute_result');
    const diagnostics = indexOf(firstCell.iopub, 'stream', 'stderr');
    assert.equal((firstCell.iopub[result]?.content.data as Record<string, string>)['text/plain'], '42');
    assert.ok(diagnostics >= 0, 'the type error is published before idle');
    assert.match(String(firstCell.iopub[diagnostics]!.content.text), /line 1, column 7: Type 'number' is not assignable to type 'string'\. \(TS2322\)/);
    assert.ok(result < diagnostics, 'the result came before the check: the run did not wait for the warm-up');
    // Nothing is left to wait for between the reply and idle (clients read IOPub with short timeouts after the reply).
    assert.ok(String(firstCell.reply.header.date) >= String(firstCell.iopub[diagnostics]!.header.date), 'the reply is sent after the diagnostics');

    // The first cell's idle came after its check, so the service is warm: the usual order, the
    // diagnostics first, and the checker knows the first cell's names and the slow types.
    const second = await kernel.client.execute('const late: Slow3 = early;\n43');
    assert.equal(second.reply.content.status, 'ok');
    const secondDiagnostics = indexOf(second.iopub, 'stream', 'stderr');
    assert.match(String(second.iopub[secondDiagnostics]?.content.text), /Type 'string' is not assignable to type 'Slow3'/);
    assert.ok(secondDiagnostics < indexOf(second.iopub, 'execute_result'), 'once warm, diagnostics precede the result');
  });

  test('under %typecheck strict the first cell waits for its check, and a type error blocks it', async () => {
    const strict = await launchKernel({ cwd: notebookDir, env: { HYPERLAB_TYPECHECK: 'strict' } });
    try {
      const blocked = await strict.client.execute('globalThis.strictRan = true;\nconst bad: Slow1 = "x";');
      assert.equal(blocked.reply.content.status, 'error');
      assert.equal(blocked.reply.content.ename, 'TypeScriptError');
      assert.equal(indexOf(blocked.iopub, 'execute_result'), -1);
      const ran = await strict.client.execute('(globalThis as any).strictRan === true');
      assert.equal((ran.iopub[indexOf(ran.iopub, 'execute_result')]?.content.data as Record<string, string>)['text/plain'], 'false');
    } finally {
      await strict.dispose();
    }
  });
});

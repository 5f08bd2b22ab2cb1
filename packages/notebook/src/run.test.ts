/**
 * `hyperlab run` end to end: real kernels (the kernel package's kernelspec, installed into a
 * temporary prefix) over real ZeroMQ.
 */
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cellSource, type CodeCell } from './nbformat.js';
import { CLI, assertUntouched, cliEnv, code, hyperlab, markdown, notebook, processesMentioning, readJson, snapshot, tmpDir, writeTemp } from './testing.js';

const codeCell = (c: unknown): CodeCell => c as CodeCell;

test('run: outputs, execution counts, parameters injected after the tagged cell and used, displays updated across cells', () => {
  const raw = { cell_type: 'raw' as const, id: 'raw-1', metadata: {}, source: 'raw <text>' };
  const nb = notebook([
    markdown('# Parameters demo'),
    code("const lr = 0.1;\nconst label = 'default';", ['parameters']),
    code("const h = display.html('<b>first</b>');\nconsole.log('label:', label);\nconsole.log('lr:', lr);"),
    raw,
    code("h.update('<b>updated</b>');\nconsole.log('before clear');\nclearOutput(true);\nconsole.log('after clear');\nlr * 2"),
    code(''),
  ]);
  const file = writeTemp(nb);
  const before = snapshot(file);
  const out = path.join(path.dirname(file), 'out.ipynb');
  const r = hyperlab(['run', file, '-p', 'lr=0.25', '-p', 'label=tuned', '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /injected parameters as cell 2, after cell 1 \(tagged "parameters"\)/);
  assert.match(r.stderr, /\[#{20}\] 4\/4 done/);
  const fileNow = { ...before, listing: [...before.listing, 'out.ipynb'].sort() };
  assertUntouched(fileNow);

  const saved = readJson(out);
  assert.equal(saved.cells.length, 7);
  assert.deepEqual(saved.cells[0], nb.cells[0], 'markdown untouched');
  assert.deepEqual(saved.cells[4], raw, 'raw untouched');
  const injected = codeCell(saved.cells[2]);
  assert.deepEqual(injected.metadata.tags, ['injected-parameters']);
  assert.equal(cellSource(injected), '// Injected parameters\nconst lr = 0.25;\nconst label = "tuned";\n');
  assert.deepEqual([1, 2, 3, 5, 6].map((i) => codeCell(saved.cells[i]).execution_count), [1, 2, 3, 4, null]);

  const display = codeCell(saved.cells[3]).outputs;
  assert.deepEqual(display, [
    { output_type: 'display_data', data: { 'text/html': '<b>updated</b>', 'text/plain': '<HTML output>' }, metadata: {} },
    { output_type: 'stream', name: 'stdout', text: 'label: tuned\nlr: 0.25\n' },
  ]);
  assert.deepEqual(codeCell(saved.cells[5]).outputs, [
    { output_type: 'stream', name: 'stdout', text: 'after clear\n' },
    { output_type: 'execute_result', execution_count: 4, data: { 'text/plain': '0.5' }, metadata: {} },
  ]);
  assert.equal((saved.metadata.language_info as { name?: string }).name, 'typescript');
  // what was saved is a valid notebook by the official schema
  const check = hyperlab(['runs', out]);
  assert.equal(check.status, 0, check.stderr);
});

test('run in place, replacing an earlier injected-parameters cell; no parameters cell puts it at the top', () => {
  const nb = notebook([code('// Injected parameters\nconst n = 1;\n', ['injected-parameters']), code('console.log(n * 10)')]);
  const file = writeTemp(nb);
  const r = hyperlab(['run', file, '-p', 'n=4']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /replaced the injected-parameters cell as cell 0, at the top \(no cell is tagged "parameters"\)/);
  const saved = readJson(file);
  assert.equal(saved.cells.length, 2);
  assert.equal(cellSource(saved.cells[0]), '// Injected parameters\nconst n = 4;\n');
  assert.deepEqual(codeCell(saved.cells[1]).outputs, [{ output_type: 'stream', name: 'stdout', text: '40\n' }]);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['nb.ipynb'], 'no temp file left behind');
});

function failingNotebook() {
  return notebook([code("console.log('ok')"), code("const v = 1;\nthrow new Error('boom at ' + v);"), code("console.log('never')")]);
}

test('run on a failing cell without -o: exit 1, the cell and traceback named, the input untouched', () => {
  const file = writeTemp(failingNotebook());
  const before = snapshot(file);
  const r = hyperlab(['run', file]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /cell 1 \(id code-\d+\) failed: Error: boom at 1/);
  assert.match(r.stderr, /Cell In\[2\], line 2/);
  assert.ok(!r.stderr.includes('\x1b['), 'ANSI codes stripped');
  assert.match(r.stderr, /was not modified/);
  assertUntouched(before);
});

test('run on a failing cell with -o: the partial notebook, with the error output, goes to OUT', () => {
  const file = writeTemp(failingNotebook());
  const before = snapshot(file);
  const out = path.join(tmpDir(), 'partial.ipynb');
  const r = hyperlab(['run', file, '-o', out]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`partial notebook .* is in ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assertUntouched(before);
  const saved = readJson(out);
  assert.deepEqual(codeCell(saved.cells[0]).outputs, [{ output_type: 'stream', name: 'stdout', text: 'ok\n' }]);
  const error = codeCell(saved.cells[1]).outputs[0];
  assert.equal(error.output_type, 'error');
  assert.equal(error.output_type === 'error' && error.evalue, 'boom at 1');
  assert.equal(codeCell(saved.cells[1]).execution_count, 2);
  assert.deepEqual(codeCell(saved.cells[2]).outputs, []);
  assert.equal(codeCell(saved.cells[2]).execution_count, null);
});

test('a kernel that dies mid-run: clear message with the cell and signal, exit 1, no hang, input untouched', () => {
  // process.exit() in a cell is refused by the kernel's executor (it throws); SIGKILL to the
  // kernel's own pid (the executor worker shares it) really ends the kernel process.
  const file = writeTemp(notebook([code("console.log('alive')"), code("process.kill(process.pid, 'SIGKILL');"), code("console.log('never')")]));
  const before = snapshot(file);
  const r = hyperlab(['run', file], { timeoutMs: 30_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /kernel died while running cell 1 \(id code-\d+\) \(signal SIGKILL\)/);
  assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
  assertUntouched(before);
});

test('--timeout interrupts a cell that runs too long, then stops with exit 1 and disposes the kernel', () => {
  const file = writeTemp(notebook([code('while (true) {}'), code("console.log('never')")]));
  const out = path.join(path.dirname(file), 'out.ipynb');
  const tmp = tmpDir('hyperlab-kernel-tmp-'); // the launcher puts the connection file here
  const r = hyperlab(['run', file, '--timeout', '1', '-o', out], { env: cliEnv({ TMPDIR: tmp }) });
  assert.deepEqual(processesMentioning(tmp), [], 'no kernel left running');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /cell 0 \(id code-\d+\) timed out after 1 s \(the kernel was interrupted\)/);
  const saved = readJson(out);
  const outputs = codeCell(saved.cells[0]).outputs;
  assert.equal(outputs.length, 1);
  assert.equal(outputs[0].output_type === 'error' && outputs[0].ename, 'KeyboardInterrupt');
});

test('unknown kernelspec: exit 2, the folders searched and the kernels found are listed', () => {
  const file = writeTemp(notebook([code('1')], 'no-such-kernel'));
  const before = snapshot(file);
  const env = cliEnv();
  const r = hyperlab(['run', file], { env });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /no kernelspec named "no-such-kernel" \(the notebook's metadata\.kernelspec\.name\)/);
  assert.ok(r.stderr.includes(`searched:\n    ${path.join(env.JUPYTER_PATH!, 'kernels')}\n    ${path.join(env.JUPYTER_DATA_DIR!, 'kernels')}\n`), r.stderr);
  assert.match(r.stderr, /kernels found:\n {4}hyperlab {2}\S+hyperlab/);
  const flag = hyperlab(['run', file, '--kernel', 'also-missing'], { env });
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /no kernelspec named "also-missing" \(--kernel\)/);
  assertUntouched(before);
});

test('a kernelspec whose argv cannot run: exit 2 naming its kernel.json', () => {
  const prefix = tmpDir('hyperlab-broken-');
  const dir = path.join(prefix, 'kernels', 'broken');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify({ argv: ['/nonexistent/kernel', '{connection_file}'], display_name: 'Broken', language: 'typescript' }));
  const file = writeTemp(notebook([code('1')], 'broken'));
  const before = snapshot(file);
  const r = hyperlab(['run', file], { env: cliEnv({ JUPYTER_PATH: prefix }) });
  assert.equal(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes(`kernelspec ${path.join(dir, 'kernel.json')}: argv[0] "/nonexistent/kernel" is not an executable file`), r.stderr);
  assertUntouched(before);
});

test('SIGTERM (or Ctrl-C) during a run: the kernel is disposed, nothing written, exit 130', async () => {
  const file = writeTemp(notebook([code('await new Promise((resolve) => setTimeout(resolve, 60_000));')]));
  const before = snapshot(file);
  const tmp = tmpDir('hyperlab-kernel-tmp-');
  const child = spawn(process.execPath, [CLI, 'run', file], { env: cliEnv({ TMPDIR: tmp }) });
  let stderr = '';
  const started = new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.includes('cell 0')) resolve();
  }));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await started;
  assert.equal(processesMentioning(tmp).length, 1, 'the kernel runs');
  child.kill('SIGTERM');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /cancelled while running cell 0 \(id code-\d+\)\nhyperlab run: nothing was written/);
  assert.deepEqual(processesMentioning(tmp), [], 'no kernel left running');
  assertUntouched(before);
});

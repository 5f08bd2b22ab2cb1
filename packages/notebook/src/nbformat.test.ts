import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  cellSource, joinMultilineStrings, runRecords, serializeNotebook, splitMultilineStrings, validateNotebook, writeNotebookAtomic,
  NotebookReadError, RUN_RECORD_MIME, type Notebook,
} from './nbformat.js';
import { parseNotebook, readNotebook } from './read.js';
import { tmpDir } from './testing.js';
import { jsonErrorOffset, lineColumn } from './json-position.js';

/** A small valid 4.5 notebook with every output kind. */
function goodNotebook(): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'hyperlab', display_name: 'TypeScript (HyperLab)', language: 'typescript' } },
    cells: [
      { cell_type: 'markdown', id: 'intro', metadata: {}, source: ['# Title\n', 'text'] },
      {
        cell_type: 'code', id: 'c-1', metadata: {}, source: 'console.log(1)', execution_count: 1,
        outputs: [
          { output_type: 'stream', name: 'stdout', text: '1\n' },
          { output_type: 'display_data', data: { 'text/plain': 'x' }, metadata: {} },
          { output_type: 'execute_result', execution_count: 1, data: { 'text/plain': '2' }, metadata: {} },
          { output_type: 'error', ename: 'Error', evalue: 'boom', traceback: ['Error: boom'] },
        ],
      },
      { cell_type: 'raw', id: 'r_1', metadata: {}, source: '' },
    ],
  };
}



test('reads and validates a good 4.5 notebook, and a 4.4 one without cell ids', () => {
  const dir = tmpDir();
  const f = path.join(dir, 'good.ipynb');
  fs.writeFileSync(f, serializeNotebook(goodNotebook()));
  assert.deepEqual(readNotebook(f), joinMultilineStrings(goodNotebook()));
  const old = goodNotebook();
  old.nbformat_minor = 4;
  for (const c of old.cells) delete c.id;
  assert.deepEqual(validateNotebook(old), []);
});

test('not JSON: the error names the file and the position', () => {
  const dir = tmpDir();
  const f = path.join(dir, 'broken.ipynb');
  fs.writeFileSync(f, '{\n "nbformat": 4,\n "cells": [,]\n}\n');
  assert.throws(() => readNotebook(f), (e: unknown) => {
    assert.ok(e instanceof NotebookReadError);
    assert.ok(e.message.startsWith(f + ': not valid JSON at line 3, column 12 (offset 29): '), e.message);
    return true;
  });
});

test('a missing file is a NotebookReadError naming the file', () => {
  const f = path.join(tmpDir(), 'missing.ipynb');
  assert.throws(() => readNotebook(f), (e: unknown) => e instanceof NotebookReadError && e.message.startsWith(`${f}: cannot read`));
});

test('not nbformat 4: each problem is named with its JSON path', () => {
  const cases: Array<[string, (nb: any) => void, string, RegExp]> = [
    ['array at top', () => undefined, '', /must be a JSON object/],
    ['nbformat 3', (nb) => { nb.nbformat = 3; }, '/nbformat', /must be 4, got number 3/],
    ['no nbformat', (nb) => { delete nb.nbformat; }, '/nbformat', /missing/],
    ['bad minor', (nb) => { nb.nbformat_minor = '5'; }, '/nbformat_minor', /integer/],
    ['metadata', (nb) => { nb.metadata = []; }, '/metadata', /object/],
    ['cells', (nb) => { nb.cells = {}; }, '/cells', /array/],
    ['cell_type', (nb) => { nb.cells[0].cell_type = 'heading'; }, '/cells/0/cell_type', /"heading"/],
    ['source', (nb) => { nb.cells[1].source = ['a', 1]; }, '/cells/1/source', /string or an array of strings/],
    ['missing id', (nb) => { delete nb.cells[2].id; }, '/cells/2/id', /required from nbformat 4.5/],
    ['bad id', (nb) => { nb.cells[2].id = 'a b'; }, '/cells/2/id', /1–64 characters/],
    ['duplicate id', (nb) => { nb.cells[2].id = 'intro'; }, '/cells/2/id', /not unique \(also cell 0\)/],
    ['outputs', (nb) => { nb.cells[1].outputs = null; }, '/cells/1/outputs', /array/],
    ['execution_count', (nb) => { nb.cells[1].execution_count = -1; }, '/cells/1/execution_count', /integer ≥ 0 or null/],
    ['output_type', (nb) => { nb.cells[1].outputs[0].output_type = 'pyout'; }, '/cells/1/outputs/0/output_type', /one of stream/],
    ['stream name', (nb) => { nb.cells[1].outputs[0].name = 'stdin'; }, '/cells/1/outputs/0/name', /stdout/],
    ['stream text', (nb) => { delete nb.cells[1].outputs[0].text; }, '/cells/1/outputs/0/text', /string/],
    ['display data', (nb) => { nb.cells[1].outputs[1].data = 'x'; }, '/cells/1/outputs/1/data', /MIME bundle/],
    ['display metadata', (nb) => { delete nb.cells[1].outputs[1].metadata; }, '/cells/1/outputs/1/metadata', /object/],
    ['result count', (nb) => { delete nb.cells[1].outputs[2].execution_count; }, '/cells/1/outputs/2/execution_count', /execute_result/],
    ['error ename', (nb) => { nb.cells[1].outputs[3].ename = 1; }, '/cells/1/outputs/3/ename', /string/],
    ['error traceback', (nb) => { nb.cells[1].outputs[3].traceback = 'x'; }, '/cells/1/outputs/3/traceback', /array of strings/],
  ];
  for (const [label, edit, where, message] of cases) {
    const nb: any = label === 'array at top' ? [] : goodNotebook();
    edit(nb);
    const errors = validateNotebook(nb);
    assert.equal(errors.length, 1, `${label}: ${JSON.stringify(errors)}`);
    assert.equal(errors[0].path, where, label);
    assert.match(errors[0].message, message, label);
    // and reading it (built-in checks) names the file, line, column, path and problem
    const text = JSON.stringify(nb, null, 1);
    assert.throws(() => parseNotebook(text, 'x.ipynb', { validation: 'builtin' }), (e: unknown) => {
      assert.ok(e instanceof NotebookReadError);
      assert.match(e.message, /^x\.ipynb: not a valid nbformat 4 notebook \(HyperLab's built-in checks; 1 problem\):\n {2}x\.ipynb:\d+:\d+: /);
      assert.ok(e.message.includes(`${where || '(root)'}: ${errors[0].message}`), e.message);
      assert.deepEqual(e.errors.map(({ path, message }) => ({ path, message })), errors);
      const { line, column } = e.errors[0];
      assert.ok(line! >= 1 && column! >= 1);
      assert.ok(e.message.includes(`x.ipynb:${line}:${column}: `));
      return true;
    }, label);
  }
});

test('atomic write: Jupyter-style text, replaces the file, leaves no temp file', () => {
  const dir = tmpDir();
  const f = path.join(dir, 'nb.ipynb');
  fs.writeFileSync(f, 'old');
  writeNotebookAtomic(f, goodNotebook());
  const text = fs.readFileSync(f, 'utf8');
  assert.ok(text.startsWith('{\n "cells": [\n  {\n'), text.slice(0, 40));
  assert.ok(text.endsWith('}\n'));
  assert.deepEqual(JSON.parse(text), splitMultilineStrings(goodNotebook()));
  assert.deepEqual(fs.readdirSync(dir), ['nb.ipynb']);
});

test('atomic write: serialisation failure leaves the original untouched', () => {
  const dir = tmpDir();
  const f = path.join(dir, 'nb.ipynb');
  fs.writeFileSync(f, 'original bytes');
  const nb = goodNotebook();
  nb.metadata.big = 1n;
  assert.throws(() => writeNotebookAtomic(f, nb), TypeError);
  assert.equal(fs.readFileSync(f, 'utf8'), 'original bytes');
  assert.deepEqual(fs.readdirSync(dir), ['nb.ipynb']);
});

test('atomic write: a read-only directory leaves the original untouched', () => {
  const dir = tmpDir();
  const f = path.join(dir, 'nb.ipynb');
  fs.writeFileSync(f, 'original bytes');
  const before = fs.statSync(f);
  const asRoot = process.getuid?.() === 0;
  try {
    if (asRoot) {
      // root ignores directory permissions: do the write as `nobody` in a child process
      fs.chownSync(dir, 65534, 65534);
      fs.chownSync(f, 65534, 65534);
      fs.chmodSync(dir, 0o555);
      // The checkout may sit in a folder `nobody` cannot read (a CI clone in a 0700 temp dir), so
      // the child loads a copy of the compiled module from a world-readable folder.
      const code = tmpDir('hl-nbformat-code-');
      fs.chmodSync(code, 0o755);
      for (const file of ['nbformat.js', 'json-position.js']) fs.copyFileSync(path.join(__dirname, file), path.join(code, file));
      const script = `const { writeNotebookAtomic } = require(${JSON.stringify(path.join(code, 'nbformat.js'))});
        try { writeNotebookAtomic(${JSON.stringify(f)}, ${JSON.stringify(goodNotebook())}); process.exit(0); }
        catch (e) { process.stdout.write(String(e.code)); process.exit(3); }`;
      const r = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
      assert.equal(r.status, 3, r.stderr);
      assert.equal(r.stdout, 'EACCES');
    } else {
      fs.chmodSync(dir, 0o555);
      assert.throws(() => writeNotebookAtomic(f, goodNotebook()), (e: NodeJS.ErrnoException) => e.code === 'EACCES');
    }
    assert.equal(fs.readFileSync(f, 'utf8'), 'original bytes');
    assert.equal(fs.statSync(f).mtimeMs, before.mtimeMs);
    assert.deepEqual(fs.readdirSync(dir), ['nb.ipynb']);
  } finally {
    fs.chmodSync(dir, 0o755);
  }
});

test('atomic write: a failing rename (target is a directory) removes the temp file', () => {
  const dir = tmpDir();
  const target = path.join(dir, 'nb.ipynb');
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'inside'), 'x');
  assert.throws(() => writeNotebookAtomic(target, goodNotebook()));
  assert.deepEqual(fs.readdirSync(dir), ['nb.ipynb']);
  assert.deepEqual(fs.readdirSync(target), ['inside']);
});

test('cellSource joins line arrays', () => {
  const nb = goodNotebook();
  assert.equal(cellSource(nb.cells[0]), '# Title\ntext');
  assert.equal(cellSource(nb.cells[1]), 'console.log(1)');
});

test('runRecords finds run-record outputs with cell index and id', () => {
  const nb = goodNotebook();
  const code = nb.cells[1];
  assert.equal(code.cell_type, 'code');
  if (code.cell_type !== 'code') return;
  code.outputs.push({ output_type: 'display_data', data: { [RUN_RECORD_MIME]: { id: 'a' }, 'text/plain': 'run a' }, metadata: {} });
  nb.cells.push({ cell_type: 'code', metadata: {}, source: '', execution_count: null, outputs: [
    { output_type: 'execute_result', execution_count: 2, data: { [RUN_RECORD_MIME]: JSON.stringify({ id: 'b' }) }, metadata: {} },
  ] });
  assert.deepEqual(runRecords(nb), [
    { cellIndex: 1, cellId: 'c-1', outputIndex: 4, record: { id: 'a' } },
    { cellIndex: 3, outputIndex: 0, record: { id: 'b' } },
  ]);
});

test('errors point at the value, or at the nearest parent when the value is missing', () => {
  const nb: any = goodNotebook();
  nb.cells[1].outputs[0].name = 'stdin';
  delete nb.cells[1].outputs[1].metadata;
  const text = JSON.stringify(nb, null, 1);
  assert.throws(() => parseNotebook(text, 'y.ipynb', { validation: 'builtin' }), (e: unknown) => {
    assert.ok(e instanceof NotebookReadError);
    const lines = text.split('\n');
    const [name, metadata] = e.errors;
    assert.equal(name.path, '/cells/1/outputs/0/name');
    assert.equal(lines[name.line! - 1].slice(name.column! - 1), '"stdin",');
    assert.equal(metadata.path, '/cells/1/outputs/1/metadata');
    assert.equal(lines[metadata.line! - 1].slice(metadata.column! - 1), '{', 'the output object itself');
    return true;
  });
});

test('jsonErrorOffset points at the first bad character', () => {
  assert.equal(jsonErrorOffset('{"a": [1, 2]}'), -1);
  assert.equal(jsonErrorOffset('{"a": [,]}'), 7);
  assert.equal(jsonErrorOffset('{"a": 1'), 7);
  assert.equal(jsonErrorOffset('{"a": 1} x'), 9);
  assert.equal(jsonErrorOffset('{"a": tru}'), 9);
  assert.equal(jsonErrorOffset(''), 0);
  assert.deepEqual(lineColumn('ab\ncd', 4), { line: 2, column: 2 });
});

test('serializeNotebook stores multi-line strings as lists of lines, as Jupyter does, and round-trips', () => {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      {
        cell_type: 'code',
        id: 'a',
        metadata: {},
        execution_count: 1,
        source: 'const x = 1;\nx',
        outputs: [
          { output_type: 'stream', name: 'stdout', text: 'one\ntwo\n' },
          { output_type: 'display_data', metadata: {}, data: { 'text/plain': 'a\nb', 'image/svg+xml': '<svg>\n</svg>', 'image/png': 'iVBOR', 'application/vnd.plotly.v1+json': { data: [] } } },
        ],
      },
    ],
  } as unknown as Parameters<typeof serializeNotebook>[0];
  const json = JSON.parse(serializeNotebook(nb));
  const cell = json.cells[0];
  assert.deepEqual(cell.source, ['const x = 1;\n', 'x']);
  assert.deepEqual(cell.outputs[0].text, ['one\n', 'two\n']);
  assert.deepEqual(cell.outputs[1].data['text/plain'], ['a\n', 'b']);
  assert.deepEqual(cell.outputs[1].data['image/svg+xml'], ['<svg>\n', '</svg>']);
  assert.equal(cell.outputs[1].data['image/png'], 'iVBOR');
  assert.deepEqual(cell.outputs[1].data['application/vnd.plotly.v1+json'], { data: [] });
  assert.equal((nb as unknown as { cells: Array<{ source: unknown }> }).cells[0].source, 'const x = 1;\nx', 'the input is not changed');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { RUN_RECORD_MIME } from './nbformat.js';
import { cliEnv, code, hyperlab, notebook, snapshot, assertUntouched as assertSame, tmpDir, writeTemp } from './testing.js';

const CLI = path.join(__dirname, 'cli.js');

function record(id: string, name: string | undefined, seed: number, acc: number) {
  return {
    schema: 'hyperlab.run/v1', id, ...(name ? { name } : {}), createdAt: '2026-01-01T00:00:00.000Z',
    config: { method: 'lora', r: 4 }, seed, backend: { name: 'cpu' }, environment: {}, data: [],
    metrics: { accuracy: acc, loss: 0.25 }, curves: {}, timings: { totalMs: 10 }, contentHash: 'ab'.repeat(32),
  };
}

function notebookWithRuns(): unknown {
  return {
    nbformat: 4, nbformat_minor: 5, metadata: {},
    cells: [
      { cell_type: 'markdown', id: 'm', metadata: {}, source: '# runs' },
      { cell_type: 'code', id: 'first', metadata: {}, source: '%%adapter --as a', execution_count: 1, outputs: [
        { output_type: 'stream', name: 'stdout', text: 'training…\n' },
        { output_type: 'display_data', data: { [RUN_RECORD_MIME]: record('run-1', 'lora, r=4', 7, 0.9), 'text/plain': 'run lora' }, metadata: {} },
      ] },
      { cell_type: 'code', id: 'second', metadata: {}, source: '%%adapter', execution_count: 2, outputs: [
        { output_type: 'execute_result', execution_count: 2, data: { [RUN_RECORD_MIME]: record('run-2', undefined, 8, 0.5), 'text/plain': 'run 2' }, metadata: {} },
      ] },
    ],
  };
}

function run(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: cliEnv() });
}

function fixture(content: string): { file: string; bytes: Buffer; mtimeMs: number } {
  const dir = tmpDir('hyperlab-cli-');
  const file = path.join(dir, 'nb.ipynb');
  fs.writeFileSync(file, content);
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(file, past, past); // an mtime any write would visibly change
  return { file, bytes: fs.readFileSync(file), mtimeMs: fs.statSync(file).mtimeMs };
}

function assertUntouched(f: { file: string; bytes: Buffer; mtimeMs: number }) {
  assert.ok(fs.readFileSync(f.file).equals(f.bytes), 'bytes changed');
  assert.equal(fs.statSync(f.file).mtimeMs, f.mtimeMs, 'mtime changed');
  assert.deepEqual(fs.readdirSync(path.dirname(f.file)), ['nb.ipynb']);
}

test('runs --format table (the default)', () => {
  const f = fixture(JSON.stringify(notebookWithRuns(), null, 1));
  for (const args of [[f.file], [f.file, '--format', 'table']]) {
    const r = run(['runs', ...args]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, [
      'name       id     cell        seed  backend  metrics',
      '---------  -----  ----------  ----  -------  ----------------------',
      'lora, r=4  run-1  1 (first)   7     cpu      accuracy=0.9 loss=0.25',
      'run-2      run-2  2 (second)  8     cpu      accuracy=0.5 loss=0.25',
      '',
    ].join('\n'));
  }
  assertUntouched(f);
});

test('runs --format csv', () => {
  const f = fixture(JSON.stringify(notebookWithRuns()));
  const r = run(['runs', f.file, '--format=csv']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, [
    'name,id,cell,seed,backend,metrics',
    '"lora, r=4",run-1,1 (first),7,cpu,accuracy=0.9 loss=0.25',
    'run-2,run-2,2 (second),8,cpu,accuracy=0.5 loss=0.25',
    '',
  ].join('\n'));
  assertUntouched(f);
});

test('runs --format json', () => {
  const f = fixture(JSON.stringify(notebookWithRuns()));
  const r = run(['runs', '--format', 'json', f.file]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [
    { name: 'lora, r=4', id: 'run-1', cell: 1, cellId: 'first', seed: '7', backend: 'cpu', metrics: { accuracy: 0.9, loss: 0.25 } },
    { name: 'run-2', id: 'run-2', cell: 2, cellId: 'second', seed: '8', backend: 'cpu', metrics: { accuracy: 0.5, loss: 0.25 } },
  ]);
  assertUntouched(f);
});

test('runs on a notebook without records', () => {
  const nb = notebookWithRuns() as { cells: unknown[] };
  nb.cells = nb.cells.slice(0, 1);
  const f = fixture(JSON.stringify(nb));
  assert.equal(run(['runs', f.file]).stdout, 'no run records\n');
  assert.equal(run(['runs', f.file, '--format', 'json']).stdout, '[]\n');
});

test('runs on broken notebooks: exit 2, file and problem on stderr, file untouched', () => {
  const cases: Array<[string, RegExp]> = [
    ['{"nbformat": 4, "cells": [', /not valid JSON at line 1, column 27/],
    [JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [] }), /not a valid nbformat 4 notebook \(HyperLab's built-in checks; 1 problem\):\n  \S+nb\.ipynb:1:\d+: \/nbformat: nbformat must be 4, got number 3/],
    [JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', id: 'x', metadata: {}, source: 1, outputs: [], execution_count: null }] }), /\(official schema nbformat\.v4\.5\.schema\.json of nbformat [\d.]+; 1 problem\):\n  \S+nb\.ipynb:1:\d+: \/cells\/0\/source: must be string or array, got number 1/],
  ];
  for (const [content, message] of cases) {
    const f = fixture(content);
    const r = run(['runs', f.file]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.startsWith(`hyperlab runs: ${f.file}: `), r.stderr);
    assert.match(r.stderr, message);
    assertUntouched(f);
  }
});

test('bad arguments and missing files exit 2 with a message', () => {
  const f = fixture(JSON.stringify(notebookWithRuns()));
  const cases: Array<[string[], RegExp]> = [
    [[], /usage: hyperlab <command>/],
    [['rerun', f.file], /unknown command "rerun"/],
    [['runs'], /expected one notebook, got 0/],
    [['runs', f.file, '--format', 'xml'], /--format must be table, csv or json, got "xml"/],
    [['runs', f.file, '--format'], /option --format needs a value/],
    [['runs', f.file, '-x'], /unknown option "-x"/],
    [['runs', f.file + '.missing'], /nb\.ipynb\.missing: cannot read: ENOENT/],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
  assertUntouched(f);
});

test('--help: the commands, and the usage of each', () => {
  const all = run(['--help']);
  assert.equal(all.status, 0);
  for (const command of ['run', 'verify', 'report', 'runs']) assert.match(all.stdout, new RegExp(`^  hyperlab ${command} NOTEBOOK`, 'm'));
  for (const [command, flag] of [['run', '--timeout SECONDS'], ['verify', '--rtol R'], ['report', '-o OUT.html'], ['runs', '--format']]) {
    const r = run([command, '--help']);
    assert.equal(r.status, 0);
    assert.ok(r.stdout.startsWith(`usage: hyperlab ${command} NOTEBOOK`), r.stdout);
    assert.ok(r.stdout.includes(flag), r.stdout);
  }
});

test('run, verify, report: bad flags and parameters name the flag, exit 2, and leave the notebook alone', () => {
  const file = writeTemp(notebook([code('1')]));
  const before = snapshot(file);
  const cases: Array<[string[], RegExp]> = [
    [['run', file, '-p', 'novalue'], /^hyperlab run: -p "novalue": expected key=value\n$/],
    [['run', file, '-p', '2x=1'], /-p "2x=1": "2x" is not a name a TypeScript const can have/],
    [['run', file, '--bogus'], /^hyperlab run: unknown option "--bogus"\nusage: hyperlab run/],
    [['run', file, '-o'], /option -o\/--output needs a value/],
    [['run', file, '--timeout', '0'], /--timeout must be a number of seconds > 0, got "0"/],
    [['run', file, '--timeout', 'soon'], /--timeout must be a number of seconds > 0, got "soon"/],
    [['run', file, file], /expected one notebook, got 2/],
    [['verify', file, '--rtol', '-1'], /option --rtol needs a value \(write --rtol=VALUE for a value starting with "-"\)/],
    [['verify', file, '--atol=-1'], /--atol must be a number ≥ 0, got "-1"/],
    [['verify', file, '-p', 'a=1'], /unknown option "-p"/],
    [['report', file, '-o', file], /-o \S+: that is the notebook itself/],
    [['report', file, '--kernel', 'x'], /unknown option "--kernel"/],
  ];
  for (const [args, message] of cases) {
    const r = hyperlab(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assertSame(before);
  }
});

test('run, verify, report on bad notebooks: exit 2, file:line:col and JSON path, file untouched', () => {
  const notJson = writeTemp('{\n "nbformat": 4,\n "cells": [,]\n}\n');
  const notNb = writeTemp(JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', id: 'x', metadata: {}, source: 'ok', outputs: [{ output_type: 'stream', name: 'stdout' }], execution_count: null }] }, null, 1));
  for (const command of ['run', 'verify', 'report']) {
    for (const [file, message] of [
      [notJson, /not valid JSON at line 3, column 12 \(offset 29\)/],
      [notNb, /nb\.ipynb:12:5: \/cells\/0\/outputs\/0\/text: is required but missing/],
      [notJson + '.missing', /nb\.ipynb\.missing: cannot read: ENOENT/],
    ] as Array<[string, RegExp]>) {
      const before = fs.existsSync(file) ? snapshot(file) : undefined;
      const r = hyperlab([command, file]);
      assert.equal(r.status, 2, `${command} ${file}: ${r.stderr}`);
      assert.ok(r.stderr.startsWith(`hyperlab ${command}: ${file}: `), r.stderr);
      assert.match(r.stderr, message);
      if (before) assertSame(before);
    }
  }
});

/**
 * Validation against the official nbformat schema, taken from the Python nbformat package in the
 * repository's .venv (scripts/setup-venv.sh installs it; `npm test` runs that first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { draft04To07, schemaDraft } from './json-schema.js';
import { joinMultilineStrings, NotebookReadError, type Notebook } from './nbformat.js';
import { compile, officialSchema, schemaFileFor, type OfficialSchema } from './nbformat-schema.js';
import { findPython } from './python.js';
import { parseNotebook } from './read.js';
import { repoPython, tmpDir } from './testing.js';

const python = findPython({ HYPERLAB_PYTHON: repoPython() });

function schema(minor = 5): OfficialSchema {
  assert.ok(python.found, `the repository's Python does not answer: ${!python.found && python.reason}`);
  const s = officialSchema(minor, python);
  assert.ok(!('unavailable' in s), `the official schema is unavailable: ${'unavailable' in s && s.unavailable}`);
  return s as OfficialSchema;
}

function good(): any {
  return {
    nbformat: 4, nbformat_minor: 5,
    metadata: { kernelspec: { name: 'hyperlab', display_name: 'TypeScript (HyperLab)' } },
    cells: [
      { cell_type: 'markdown', id: 'intro', metadata: {}, source: ['# Title\n', 'text'] },
      { cell_type: 'code', id: 'c-1', metadata: {}, source: 'console.log(1)', execution_count: 1, outputs: [
        { output_type: 'stream', name: 'stdout', text: '1\n' },
        { output_type: 'display_data', data: { 'text/plain': 'x' }, metadata: {} },
        { output_type: 'execute_result', execution_count: 1, data: { 'text/plain': '2' }, metadata: {} },
        { output_type: 'error', ename: 'Error', evalue: 'boom', traceback: ['Error: boom'] },
      ] },
      { cell_type: 'raw', id: 'r_1', metadata: {}, source: '' },
    ],
  };
}

test('the schema file: the notebook\'s minor version, else the newest', () => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'v4'));
  for (const m of [3, 4, 5]) fs.writeFileSync(path.join(dir, 'v4', `nbformat.v4.${m}.schema.json`), '{}');
  fs.writeFileSync(path.join(dir, 'v4', 'nbformat.v4.schema.json'), '{}');
  assert.deepEqual(schemaFileFor(dir, 4), { file: path.join(dir, 'v4', 'nbformat.v4.4.schema.json'), minor: 4, exact: true });
  assert.deepEqual(schemaFileFor(dir, 9), { file: path.join(dir, 'v4', 'nbformat.v4.5.schema.json'), minor: 5, exact: false });
  fs.rmSync(path.join(dir, 'v4'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'v4'));
  assert.throws(() => schemaFileFor(dir, 5), /no nbformat\.v4\.<minor>\.schema\.json/);
});

test('draft-04 schemas are rewritten as draft-07 exactly where the drafts differ', () => {
  const s = { $schema: 'http://json-schema.org/draft-04/schema#', id: 'urn:x', properties: { id: { type: 'string', id: 'urn:y' }, n: { minimum: 0, exclusiveMinimum: true, maximum: 9, exclusiveMaximum: false } }, required: ['id'], items: [{ id: 'urn:z' }] };
  assert.equal(schemaDraft(s), 'draft-04');
  assert.deepEqual(draft04To07(s), {
    $schema: 'http://json-schema.org/draft-07/schema#', $id: 'urn:x',
    properties: { id: { type: 'string', $id: 'urn:y' }, n: { exclusiveMinimum: 0, maximum: 9 } }, required: ['id'], items: [{ $id: 'urn:z' }],
  });
  assert.equal(schemaDraft({ $schema: 'https://json-schema.org/draft/2020-12/schema' }), '2020-12');
  assert.equal(schemaDraft({}), 'draft-07');
  assert.throws(() => schemaDraft({ $schema: 'http://example.com/mine' }), /unsupported JSON Schema draft/);
});

test('official schema: good 4.5 and 4.4 notebooks pass', () => {
  const s = schema();
  assert.equal(path.basename(s.file), 'nbformat.v4.5.schema.json');
  assert.equal(s.draft, 'draft-04');
  assert.deepEqual(s.validate(good()), []);
  const old = good();
  old.nbformat_minor = 4;
  for (const c of old.cells) delete c.id;
  const s4 = schema(4);
  assert.equal(path.basename(s4.file), 'nbformat.v4.4.schema.json');
  assert.deepEqual(s4.validate(old), []);
  assert.ok(s4.validate(good()).some((e) => e.path === '/cells/0/id'), '4.4 has no cell ids');
});

test('official schema: each problem is reported once, at its JSON path, by the cell or output type\'s own definition', () => {
  const cases: Array<[string, (nb: any) => void, string, RegExp]> = [
    ['cell_type', (nb) => { nb.cells[0].cell_type = 'heading'; }, '/cells/0/cell_type', /^must be one of "raw", "markdown", "code", got the string "heading"$/],
    ['no cell_type', (nb) => { delete nb.cells[1].cell_type; }, '/cells/1/cell_type', /^is required but missing \(one of "raw", "markdown", "code"\)$/],
    ['no output_type', (nb) => { delete nb.cells[1].outputs[3].output_type; }, '/cells/1/outputs/3/output_type', /^is required but missing \(one of "execute_result", "display_data", "stream", "error"\)$/],
    ['source', (nb) => { nb.cells[1].source = 1; }, '/cells/1/source', /^must be string or array, got number 1$/],
    ['source item', (nb) => { nb.cells[1].source = ['a', 1]; }, '/cells/1/source/1', /^must be string, got number 1$/],
    ['missing id', (nb) => { delete nb.cells[2].id; }, '/cells/2/id', /^is required but missing$/],
    ['bad id', (nb) => { nb.cells[2].id = 'a b'; }, '/cells/2/id', /^must match pattern "\^\[a-zA-Z0-9-_\]\+\$", got the string "a b"$/],
    ['duplicate id', (nb) => { nb.cells[2].id = 'intro'; }, '/cells/2/id', /not unique \(also cell 0\)/],
    ['extra cell key', (nb) => { nb.cells[0].outputs = []; }, '/cells/0/outputs', /^is not allowed here/],
    ['execution_count', (nb) => { nb.cells[1].execution_count = -1; }, '/cells/1/execution_count', /^must be >= 0, got number -1$/],
    ['output_type', (nb) => { nb.cells[1].outputs[0].output_type = 'pyout'; }, '/cells/1/outputs/0/output_type', /^must be one of "execute_result", "display_data", "stream", "error"/],
    ['stream name', (nb) => { nb.cells[1].outputs[0].name = 5; }, '/cells/1/outputs/0/name', /^must be string, got number 5$/],
    ['transient saved', (nb) => { nb.cells[1].outputs[1].transient = { display_id: 'x' }; }, '/cells/1/outputs/1/transient', /^is not allowed here/],
    ['result count', (nb) => { delete nb.cells[1].outputs[2].execution_count; }, '/cells/1/outputs/2/execution_count', /^is required but missing$/],
    ['traceback', (nb) => { nb.cells[1].outputs[3].traceback = 'x'; }, '/cells/1/outputs/3/traceback', /^must be array, got the string "x"$/],
    ['kernelspec', (nb) => { delete nb.metadata.kernelspec.display_name; }, '/metadata/kernelspec/display_name', /^is required but missing$/],
    ['cells', (nb) => { nb.cells = {}; }, '/cells', /^must be array, got an object$/],
    ['top-level key', (nb) => { nb.worksheets = []; }, '/worksheets', /^is not allowed here/],
  ];
  const s = schema();
  for (const [label, edit, where, message] of cases) {
    const nb = good();
    edit(nb);
    const errors = s.validate(nb);
    assert.equal(errors.length, 1, `${label}: ${JSON.stringify(errors)}`);
    assert.equal(errors[0].path, where, label);
    assert.match(errors[0].message, message, label);
  }
});

test('reading names the schema, the file, line and column, in document order', () => {
  const nb = good();
  nb.cells[1].outputs[0].text = 3;
  nb.cells[0].extra = true;
  const text = JSON.stringify(nb, null, 1);
  assert.throws(() => parseNotebook(text, 'nb.ipynb', { python }), (e: unknown) => {
    assert.ok(e instanceof NotebookReadError);
    const lines = e.message.split('\n');
    assert.match(lines[0], /^nb\.ipynb: not a valid nbformat 4 notebook \(official schema nbformat\.v4\.5\.schema\.json of nbformat \d+\.\d+\.\d+; 2 problems\):$/);
    const at = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
    assert.match(lines[1], new RegExp(`^ {2}nb\\.ipynb:${at('"extra"')}:\\d+: /cells/0/extra: is not allowed here`));
    assert.equal(lines[2], `  nb.ipynb:${at('"text": 3')}:14: /cells/1/outputs/0/text: must be string or array, got number 3`);
    return true;
  });
  const future = good();
  future.nbformat_minor = 99;
  assert.throws(() => parseNotebook(JSON.stringify({ ...future, cells: 1 }), 'f.ipynb', { python }), /official schema nbformat\.v4\.5\.schema\.json of nbformat [\d.]+ \(newest available; the notebook says 4\.99\)/);
  assert.deepEqual(parseNotebook(JSON.stringify(good()), 'ok.ipynb', { python }), joinMultilineStrings(good()));
});

test('validation is compiled once: every officialSchema() of a file shares one compiled schema, which validates a 300-cell notebook', () => {
  const s = schema();
  const nb = good();
  for (let i = 0; i < 300; i++) nb.cells.push({ cell_type: 'code', id: `c${i}`, metadata: {}, source: `x${i}`, execution_count: i, outputs: [{ output_type: 'stream', name: 'stdout', text: 'y\n' }] });
  const file = s.file;
  assert.equal(compile(file), compile(file), 'the same compiled schema object each time');
  assert.equal(schema().file, file);
  for (let i = 0; i < 3; i++) assert.equal(schema().validate(nb).length, 0);
  assert.equal(compile(file), compile(file));
  const broken = structuredClone(nb) as { cells: Array<Record<string, unknown>> };
  broken.cells[150].execution_count = 'one';
  assert.ok(s.validate(broken as unknown as Notebook).length > 0, 'and it still finds a bad cell among 300');
});

test('without a Python nbformat: the built-in checks, and one notice on stderr per process', () => {
  const read = path.join(__dirname, 'read.js');
  const broken = JSON.stringify({ ...good(), cells: [{ cell_type: 'code', id: 'x', metadata: {}, source: 1, outputs: [], execution_count: null }] });
  const script = `const { parseNotebook } = require(${JSON.stringify(read)});
    for (let i = 0; i < 2; i++) { try { parseNotebook(${JSON.stringify(broken)}, 'b.ipynb'); } catch (e) { console.log(e.message); } }`;
  for (const [value, reason] of [['none', 'HYPERLAB_PYTHON=none'], ['/nonexistent/python', 'HYPERLAB_PYTHON=/nonexistent/python is not an executable file']]) {
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, HYPERLAB_PYTHON: value } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
    assert.ok(r.stderr.startsWith(`hyperlab: validating with HyperLab's built-in nbformat checks, not the official schema (${reason})`), r.stderr);
    assert.equal(r.stdout.match(/HyperLab's built-in checks; 1 problem/g)?.length, 2);
    assert.match(r.stdout, /b\.ipynb:1:\d+: \/cells\/0\/source: cell source must be a string or an array of strings/);
  }
  const noNbformat = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, HYPERLAB_PYTHON: process.execPath } });
  assert.match(noNbformat.stderr, /did not answer/, 'a "python" that is not Python');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellSource, type Cell, type Notebook } from './nbformat.js';
import { ParameterError, injectParameters, parametersSource, parseParameter } from './parameters.js';
import { Progress, progressBar } from './progress.js';

test('parseParameter: JSON when it parses, else a string', () => {
  assert.deepEqual(parseParameter('lr=1e-3'), ['lr', 0.001]);
  assert.deepEqual(parseParameter('layers=[64,32]'), ['layers', [64, 32]]);
  assert.deepEqual(parseParameter('fast=true'), ['fast', true]);
  assert.deepEqual(parseParameter('cfg={"a":1}'), ['cfg', { a: 1 }]);
  assert.deepEqual(parseParameter('name=mnist'), ['name', 'mnist']);
  assert.deepEqual(parseParameter('quoted="7"'), ['quoted', '7']);
  assert.deepEqual(parseParameter('eq=a=b'), ['eq', 'a=b']);
  assert.deepEqual(parseParameter('empty='), ['empty', '']);
});

test('parseParameter: bad syntax and names that cannot be consts are named', () => {
  assert.throws(() => parseParameter('novalue'), (e: Error) => e instanceof ParameterError && e.message === '-p "novalue": expected key=value');
  assert.throws(() => parseParameter('1x=2'), /-p "1x=2": "1x" is not a name a TypeScript const can have/);
  assert.throws(() => parseParameter('class=2'), /"class" is not a name/);
  assert.throws(() => parseParameter('=2'), /"" is not a name/);
});

test('parametersSource: one const per parameter, JSON literals', () => {
  const source = parametersSource(new Map<string, unknown>([['lr', 0.5], ['name', 'a "b"'], ['list', [1, 2]]]));
  assert.equal(source, '// Injected parameters\nconst lr = 0.5;\nconst name = "a \\"b\\"";\nconst list = [1,2];\n');
});

const cell = (source: string, tags?: string[]): Cell => ({ cell_type: 'code', id: source.replace(/\W/g, '') || 'empty', metadata: tags ? { tags } : {}, source, execution_count: null, outputs: [] });
const nb = (cells: Cell[]): Notebook => ({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells });

test('injectParameters: after the first cell tagged "parameters", replacing an earlier injected cell', () => {
  const n = nb([cell('intro'), cell('defaults', ['parameters']), cell('old', ['injected-parameters']), cell('work'), cell('more', ['parameters'])]);
  const at = injectParameters(n, new Map([['x', 1]]));
  assert.deepEqual(at, { index: 2, parametersCell: 1, replaced: true });
  assert.deepEqual(n.cells.map((c) => cellSource(c).split('\n')[0]), ['intro', 'defaults', '// Injected parameters', 'work', 'more']);
  const injected = n.cells[2];
  assert.deepEqual(injected.metadata, { tags: ['injected-parameters'] });
  assert.match(injected.id!, /^[0-9a-f]{8}$/);
  assert.equal(injected.cell_type === 'code' && injected.execution_count, null);
});

test('injectParameters: at the top without a parameters cell; no id before nbformat 4.5', () => {
  const n = nb([cell('work')]);
  n.nbformat_minor = 4;
  delete n.cells[0].id;
  assert.deepEqual(injectParameters(n, new Map([['x', 1]])), { index: 0, parametersCell: -1, replaced: false });
  assert.equal(n.cells.length, 2);
  assert.equal('id' in n.cells[0], false);
});

test('progress: redrawn in place on a terminal, one line per cell otherwise', () => {
  assert.equal(progressBar(3, 10, 10), '[###-------] 3/10');
  assert.equal(progressBar(0, 0, 4), '[####] 0/0');
  let pipe = '';
  const p = new Progress({ write: (s) => (pipe += s), isTTY: false }, 10);
  p.cell(1, 0, 2);
  p.cell(4, 1, 2);
  p.finish(2, 2);
  assert.equal(pipe, '[----------] 0/2 cell 1\n[#####-----] 1/2 cell 4\n[##########] 2/2 done\n');
  let tty = '';
  const t = new Progress({ write: (s) => (tty += s), isTTY: true }, 10);
  t.cell(1, 0, 2);
  t.finish(0, 2);
  assert.equal(tty, '\r\x1b[2K[----------] 0/2 cell 1\r\x1b[2K[----------] 0/2 stopped\n');
});

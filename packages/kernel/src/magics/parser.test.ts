import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blankMagicLines, parseCell, splitArgs, splitFlags } from './parser.js';

test('a %% first line makes a cell magic with the rest as body', () => {
  const parsed = parseCell('%%time --quiet\nconst x = 1;\nx');
  assert.deepEqual(parsed, { kind: 'cell-magic', name: 'time', args: '--quiet', body: 'const x = 1;\nx', bodyLine: 2 });
});

test('line magics are rewritten in place, keeping the line count and indentation', () => {
  const source = 'const a = 1;\n%env FOO=bar\nfunction f() {\n  %pwd\n}\na';
  const parsed = parseCell(source);
  assert.equal(parsed.kind, 'code');
  if (parsed.kind !== 'code') return;
  const lines = parsed.code.split('\n');
  assert.equal(lines.length, source.split('\n').length);
  assert.equal(lines[1], 'await __hl.lineMagic("env", "FOO=bar", 2);');
  assert.equal(lines[3], '  await __hl.lineMagic("pwd", "", 4);');
  assert.deepEqual(parsed.magics, [{ name: 'env', line: 2 }, { name: 'pwd', line: 4 }]);
});

test('code magics wrap their expression so it runs in the cell scope', () => {
  const parsed = parseCell('%timeit -n 10 -r 3 fib(20)');
  assert.equal(parsed.kind, 'code');
  if (parsed.kind === 'code') assert.equal(parsed.code, 'await __hl.codeMagic("timeit", "-n 10 -r 3", async () => (fib(20)));');
});

test('!cmd becomes a shell call; != and modulo are left alone', () => {
  const parsed = parseCell('!ls -la\nconst r = 7 % 3;\nconst t = 1 != 2;');
  assert.equal(parsed.kind, 'code');
  if (parsed.kind !== 'code') return;
  const lines = parsed.code.split('\n');
  assert.equal(lines[0], 'await __hl.shell("ls -la");');
  assert.equal(lines[1], 'const r = 7 % 3;');
  assert.equal(lines[2], 'const t = 1 != 2;');
});

test('?name, name?, ??name ask for help at two detail levels', () => {
  assert.deepEqual(parseCell('?console.log'), { kind: 'help', target: 'console.log', detailLevel: 0 });
  assert.deepEqual(parseCell('Math.max?'), { kind: 'help', target: 'Math.max', detailLevel: 0 });
  assert.deepEqual(parseCell('??Array'), { kind: 'help', target: 'Array', detailLevel: 1 });
  assert.equal(parseCell('a ? b : c').kind, 'code');
});

test('splitArgs honours quotes; splitFlags separates leading flags', () => {
  assert.deepEqual(splitArgs(`a "b c" 'd e' f\\"`), ['a', 'b c', 'd e', 'f\\"']);
  assert.deepEqual(splitFlags('-n 5 -r 2 f(x) - 1'), { flags: '-n 5 -r 2', code: 'f(x) - 1' });
  assert.deepEqual(splitFlags('-x'), { flags: '-x', code: '' });
});

test('blankMagicLines keeps offsets and blanks only magic, shell and help lines', () => {
  const source = '%%time\nconst a = 1;\n  %who\n!ls\na != 2;\nx?\na';
  const blanked = blankMagicLines(source);
  assert.equal(blanked.length, source.length);
  assert.deepEqual(blanked.split('\n'), ['      ', 'const a = 1;', '      ', '   ', 'a != 2;', '  ', 'a']);
});

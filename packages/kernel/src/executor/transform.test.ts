import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as vm from 'node:vm';
import { CellSyntaxError, compileCell } from './transform.js';

/** Runs compiled cells in one fresh realm, as the executor does in its own. */
function realm() {
  const context = vm.createContext({ __hl: { import: async (m: string) => ({ default: m, named: `${m}!` }), importDefault: (ns: { default: unknown }) => ns.default } });
  let n = 0;
  return async (source: string) => {
    const cell = compileCell(source, `Cell[${++n}]`);
    return { value: await vm.runInContext(cell.js, context), cell };
  };
}

test('declarations persist across cells and can be redeclared', async () => {
  const run = realm();
  await run('const x: number = 2;\nlet y = 3;\nfunction f(n: number) { return n * x; }\nclass C { v = 5 }');
  assert.equal((await run('f(y) + new C().v')).value, 11);
  await run('const x = 10;');
  assert.equal((await run('f(1)')).value, 10);
  await run('const x: string = "re-run";');
  assert.equal((await run('x')).value, 're-run');
});

test('the last expression is the value; a trailing declaration gives none', async () => {
  const run = realm();
  const withValue = await run('const a = 1;\na + 1 // comment');
  assert.equal(withValue.value, 2);
  assert.equal(withValue.cell.hasValue, true);
  const without = await run('const b = 3;');
  assert.equal(without.value, undefined);
  assert.equal(without.cell.hasValue, false);
});

test('top-level await and destructuring', async () => {
  const run = realm();
  await run('const { p, q: [r] } = await Promise.resolve({ p: 1, q: [2] });');
  assert.equal((await run('p + r')).value, 3);
});

test('imports become awaited runtime imports bound as globals', async () => {
  const run = realm();
  const { cell } = await run('import def, { named as n } from "pkg";\nimport * as ns from "other";');
  assert.deepEqual(cell.declared.sort(), ['def', 'n', 'ns']);
  assert.equal((await run('[def, n, ns.named].join()')).value, 'pkg,pkg!,other!');
});

test('functions are hoisted within the cell and exported to later cells', async () => {
  const run = realm();
  assert.equal((await run('g(2);\nfunction g(n: number) { return n + 1; }\ng(4)')).value, 5);
  assert.equal((await run('g(9)')).value, 10);
});

test('enums and namespaces work and merge', async () => {
  const run = realm();
  await run('enum Color { Red, Green }\nnamespace NS { export const a = 1; }\nnamespace NS { export const b = 2; }');
  assert.equal((await run('Color.Green + NS.a + NS.b')).value, 4);
});

test('line breaks are preserved so runtime lines map back through the source map', async () => {
  const cell = compileCell('interface I {\n  a: number;\n}\nconst x = 1;\nthrow new Error("at line 5");', 'Cell[1]');
  const map = JSON.parse(cell.sourceMap) as { sources: string[] };
  assert.deepEqual(map.sources, ['cell.ts']);
  assert.ok(cell.js.split('\n').length >= 3);
});

test('syntax errors carry the cell line and column', () => {
  assert.throws(
    () => compileCell('const ok = 1;\nlet = ;', 'Cell[1]'),
    (error: unknown) => error instanceof CellSyntaxError && error.line === 2 && error.column >= 4,
  );
});

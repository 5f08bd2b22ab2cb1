/**
 * A speculative check (a changed cell checked against the last full check's program) must give
 * exactly what a full check gives. Two services see the same cells; one may check speculatively,
 * the other always builds a new program.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { NotebookLanguageService } from './service.js';
import { SPECULATIVE_CHECKS } from './speculative-check.js';

const kernelTypeRoots = [path.dirname(path.dirname(require.resolve('@types/node/package.json')))];
const globalsDts = 'declare function display(value: unknown): void;\n';
const dirs: string[] = [];

function notebookDir(files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-speculative-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** The service under test and a reference that never checks speculatively, fed the same cells. */
function pair(dir: string) {
  const fast = new NotebookLanguageService({ cwd: dir, kernelTypeRoots, globalsDts });
  const full = new NotebookLanguageService({ cwd: dir, kernelTypeRoots, globalsDts });
  let count = 0;
  return {
    fast,
    full,
    /** Checks `code` in both and asserts the same diagnostics. */
    check(code: string) {
      full['base'] = undefined;
      const expected = full.check(code);
      assert.deepEqual(fast.check(code), expected, `diagnostics differ for:\n${code}`);
      return expected;
    },
    /** Checks and then commits `code` in both, as the kernel does with a cell that ran. */
    run(code: string) {
      const diagnostics = this.check(code);
      count++;
      fast.commit(code, count);
      full.commit(code, count);
      return diagnostics;
    },
  };
}

const DECLARATIONS = [
  'const base = 10;\nlet counter = 0;\nvar legacy: string | undefined;',
  'function scale<T extends number>(n: T, by = base): number { return n * by; }',
  'interface Shape { kind: "circle" | "square"; size: number }\nclass Circle implements Shape { kind = "circle" as const; constructor(public size: number) {} area() { return Math.PI * this.size ** 2; } }',
  'enum Color { Red, Green = "green" }\nnamespace Geometry { export const unit = 1; export function double(n: number) { return 2 * n; } }',
  'type Pair<A, B> = readonly [A, B];\nconst pair: Pair<string, number> = ["a", 1];\nabstract class Animal { abstract speak(): string }',
  'async function later(ms: number): Promise<number> { await new Promise((r) => setTimeout(r, ms)); return ms; }\nconst { a: alpha, ...restOf } = { a: 1, b: 2, c: "3" };',
];

/** Cells that declare nothing new, with and without errors, covering many kinds of diagnostics. */
const CHANGED_CELLS = [
  '1 + 1',
  'base * 2',
  'const s: string = base;',
  'counter = counter + 1;\nlegacy = "now";',
  'base = 3;',
  'scale(2).toFixed(1)',
  'scale("2")',
  'new Circle(2).area() satisfies number',
  'const sq: Shape = { kind: "triangle", size: 1 };',
  'Color.Red + Color.Green',
  'Geometry.double(Geometry.unit).toUpperCase()',
  'pair[0].toUpperCase() + pair[1].toFixed()',
  'pair[2]',
  'new Animal()',
  'class Dog extends Animal { speak() { return "woof"; } }\nnew Dog().speak()',
  'class Cat extends Animal {}',
  'await later(1)',
  'const t: number = await later("x");',
  'function noAwait() { await later(1); }',
  'alpha.toFixed(); restOf.c.toUpperCase(); restOf.a;',
  'undefinedName + 1',
  'display(base); console.log(process.version); Buffer.from("x").length',
  'function implicit(a) { return a; }',
  'const obj = { x: 1 };\nobj.y',
  'let maybe: string | undefined;\nmaybe.length',
  '// @ts-expect-error: not a number\nconst fine: number = "x";',
  '// @ts-expect-error nothing wrong here\nconst fine2 = 1;',
  '// @ts-ignore\nconst ignored: number = "x";',
  'if (true) {\n  console.log(1);',
  'const = 5;',
  'type Loop = Loop[] | Loop2;\ntype Loop2 = Loop;',
  'function over(a: string): string;\nfunction over(a: number): number;\nfunction over(a: any) { return a; }\nover(true)',
  'const key: keyof Shape = "size";\nconst bad: keyof Shape = "nope";',
  'label: for (const i of [1, 2]) { if (i) continue label; }',
  'this.x = 1;',
  'for await (const x of [Promise.resolve(1)]) { x.toFixed(); }',
  'declare const shadow: number;\nshadow.toFixed()',
  'let v = [1, 2, 3].map((n) => n * base);\nv.push("4");',
  'export const exported = 1;',
  'declare global { var leaked: number }\nleaked',
  'import { readFileSync } from "node:fs";\nreadFileSync("x", "utf8").length',
  'typeof import("node:path")',
  '/// <reference types="node" />\nprocess.pid',
  'const z: never = base as never;\nz satisfies string',
  'x => x',
  '`${base}`.padStart(3)',
];

describe('speculative checks', () => {
  test('this TypeScript has the internals speculative checks need', () => {
    assert.equal(SPECULATIVE_CHECKS, true, 'TypeScript internals moved: every check would build a new program');
  });

  test('give the diagnostics of a full check, cell by cell, as declarations accumulate', () => {
    const cells = pair(notebookDir());
    let reported = 0;
    for (const declaration of DECLARATIONS) {
      cells.run(declaration);
      for (const cell of CHANGED_CELLS) reported += cells.check(cell).length;
    }
    assert.ok(reported > 100, `the corpus should produce diagnostics (got ${reported})`);
    assert.ok(cells.fast.checkCounts.speculative > CHANGED_CELLS.length * DECLARATIONS.length * 0.6, JSON.stringify(cells.fast.checkCounts));
  });

  test('a redeclared name, a new global declaration or an edited source file means a full check', () => {
    const dir = notebookDir({ 'helper.ts': 'export const helperValue = 1;\n' });
    const cells = pair(dir);
    cells.run('import { helperValue } from "./helper";\nconst own = 1;');
    cells.check('helperValue.toFixed()');
    const before = { ...cells.fast.checkCounts };
    cells.check('helperValue.toFixed(2)');
    assert.equal(cells.fast.checkCounts.speculative, before.speculative + 1, 'a changed cell is checked speculatively');
    cells.check('const own = "redeclared";\nown.toUpperCase()');
    assert.equal(cells.fast.checkCounts.full, before.full + 1, 'a redeclaration changes the footer');
    const counts = { ...cells.fast.checkCounts };
    for (const service of [cells.fast, cells.full]) service.declareGlobal('injected', 'number');
    assert.deepEqual(cells.check('const n: number = injected;'), []);
    assert.equal(cells.fast.checkCounts.full, counts.full + 1, 'declared-globals.d.ts changed');
    fs.writeFileSync(path.join(dir, 'helper.ts'), 'export const helperValue = "now a string";\n');
    const later = new Date(Date.now() + 10_000);
    fs.utimesSync(path.join(dir, 'helper.ts'), later, later);
    const edited = cells.check('helperValue.toFixed(3)');
    assert.match(edited[0]?.message ?? '', /on type '"now a string"'/, 'the edit is seen');
  });

  test('with noUnusedLocals and strict off from tsconfig.json, still the same as a full check', () => {
    const dir = notebookDir({ 'tsconfig.json': '{ "compilerOptions": { "noUnusedLocals": true, "noUnusedParameters": true, "strict": false } }' });
    const cells = pair(dir);
    cells.run('const top = 1;\nfunction helper(unusedParam: number) { const inner = 2; return 3; }');
    for (let i = 0; i < 3; i++) {
      cells.check(`function f${i}(p: number) { const unused${i} = ${i}; return 1; }`);
      cells.check(`function loose${i}(a) { return a + top; }`);
      cells.check(`{ const blockUnused = ${i}; }`);
    }
    assert.ok(cells.fast.checkCounts.speculative >= 8, JSON.stringify(cells.fast.checkCounts));
  });

  test('unions are printed in the order a new checker would print them', () => {
    const cells = pair(notebookDir());
    cells.run('const seed = 1;');
    cells.check('const q: "b" = "b";');
    cells.check('const r: "a" | "b" = 3;');
    cells.check('let o: "c" | "b" | "a" = "d";');
    cells.check('const n: number = Math.random() > 0.5 ? "b" : 1;');
  });

  test('an import that did not resolve is seen once its file or package appears', () => {
    const dir = notebookDir();
    const cells = pair(dir);
    cells.run('import { later } from "./later";\nimport { fromPackage } from "late-package";\nconst marker = 1;');
    cells.check('later.foo; fromPackage.bar;');
    const before = { ...cells.fast.checkCounts };
    cells.check('later.foo; fromPackage.bar; marker;');
    assert.equal(cells.fast.checkCounts.speculative, before.speculative + 1, 'nothing changed: speculative');
    fs.writeFileSync(path.join(dir, 'later.ts'), 'export const later = 1;\n');
    const local = cells.check('later.foo; fromPackage.bar;');
    assert.match(local.map((d) => d.message).join('\n'), /Property 'foo' does not exist on type '1'/);
    const pkg = path.join(dir, 'node_modules', 'late-package');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'late-package', types: 'index.d.ts' }));
    fs.writeFileSync(path.join(pkg, 'index.d.ts'), 'export declare const fromPackage: string;\n');
    const installed = cells.check('later.foo; fromPackage.bar;');
    assert.match(installed.map((d) => d.message).join('\n'), /Property 'bar' does not exist on type 'string'/);
  });

  test('a const redeclared by a later cell has the later type', () => {
    const cells = pair(notebookDir());
    cells.run('const k = 1;\nconst other = "x";');
    cells.check('k.toFixed(); other.toUpperCase();');
    cells.run('const k = "now a string";');
    assert.match(cells.check('k.toFixed();')[0]?.message ?? '', /on type '"now a string"'/);
    assert.deepEqual(cells.check('k.toUpperCase(); other.toUpperCase();'), []);
  });

  test('after a commit, warming up builds the program the next cell is checked against speculatively', () => {
    const cells = pair(notebookDir());
    cells.run('const first = 1;');
    cells.fast.commit('const second = "two";', 2);
    cells.full.commit('const second = "two";', 2);
    cells.fast.warmUp();
    const before = { ...cells.fast.checkCounts };
    assert.deepEqual(cells.check('const third: number = first + second.length;'), []);
    assert.match(cells.check('const third: string = second.length;')[0]?.message ?? '', /not assignable to type 'string'/);
    assert.deepEqual(cells.fast.checkCounts, { full: before.full, speculative: before.speculative + 2 });
  });
});

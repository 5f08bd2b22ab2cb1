import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import ts from 'typescript';
import { analyzeCell, exportedCellText } from './declarations.js';
import { formatDiagnostics, NotebookLanguageService, VIRTUAL_DIR, type CellDiagnostic } from './service.js';

const kernelTypeRoots = [path.dirname(path.dirname(require.resolve('@types/node/package.json')))];
const globalsDts = [
  '/** Shows a value in the notebook. */',
  'declare function display(value: unknown): void;',
  'declare function input(prompt?: string): Promise<string>;',
  '',
].join('\n');

const tempDirs: string[] = [];
function tempDir(files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-language-'));
  tempDirs.push(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

function createService(cwd: string): NotebookLanguageService {
  return new NotebookLanguageService({ cwd, kernelTypeRoots, globalsDts });
}

function codes(diagnostics: CellDiagnostic[]): number[] {
  return diagnostics.map((d) => d.code);
}

let cwd: string;
let svc: NotebookLanguageService;
let count = 0;
/** Commits a cell with the next execution count and returns that count. */
function run(code: string): number {
  svc.commit(code, ++count);
  return count;
}

before(() => {
  cwd = tempDir();
  svc = createService(cwd);
  svc.warmUp();
});

after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('NotebookLanguageService', () => {
  beforeEach(() => svc.reset());

  test('a name redeclared in a later cell (or a cell re-run) is not an error', () => {
    run('const x = 1;\nlet y = "a";\nfunction f() { return 1; }\nclass C {}');
    assert.deepEqual(svc.check('const x = 1;\nlet y = "a";\nfunction f() { return 1; }\nclass C {}'), []);
    assert.deepEqual(svc.check('const x = "now a string";\nconst y: string = x;'), []);
  });

  test('a type error is reported in the cell coordinates', () => {
    run('const a = 1;');
    const diagnostics = svc.check('const b = 2;\n\nconst s: string = a + b;');
    assert.equal(diagnostics.length, 1);
    assert.deepEqual(
      { line: diagnostics[0]!.line, column: diagnostics[0]!.column, endLine: diagnostics[0]!.endLine, endColumn: diagnostics[0]!.endColumn },
      { line: 3, column: 7, endLine: 3, endColumn: 8 },
    );
    assert.equal(diagnostics[0]!.code, 2322);
    assert.equal(diagnostics[0]!.category, 'error');
    assert.equal(
      formatDiagnostics(diagnostics),
      "Cell line 3, column 7: Type 'number' is not assignable to type 'string'. (TS2322)",
    );
  });

  test('types flow from earlier cells', () => {
    run('const a = { n: 1 };');
    assert.deepEqual(svc.check('a.n.toFixed(2);'), []);
    const diagnostics = svc.check('a.n.toFixed(2);\na.m;');
    assert.deepEqual(codes(diagnostics), [2339]);
    assert.equal(diagnostics[0]!.line, 2);
    assert.equal(diagnostics[0]!.column, 3);
    assert.match(diagnostics[0]!.message, /Property 'm' does not exist/);
  });

  test('a let may be reassigned; a const reassignment names its cell', () => {
    run('let counter = 0;');
    const constCell = run('const limit = 10;');
    assert.deepEqual(svc.check('counter = counter + 1;\ncounter++;'), []);
    // Reassignment is still type-checked against the declared type.
    const wrongType = svc.check('counter = "many";');
    assert.deepEqual(codes(wrongType), [2322]);
    assert.equal(wrongType[0]!.message, "Type 'string' is not assignable to type 'number'.");
    const diagnostics = svc.check('limit = 5;');
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]!.code, 2632);
    assert.equal(diagnostics[0]!.message, `Cannot assign to 'limit' because it is a constant (declared in cell [${constCell}]).`);
  });

  test('interfaces and generic classes carry across cells', () => {
    run('interface Shape { area(): number }');
    run('class Box<T> {\n  constructor(public value: T) {}\n  map<U>(f: (v: T) => U): Box<U> { return new Box(f(this.value)); }\n}');
    assert.deepEqual(
      svc.check(
        'const b: Box<number> = new Box(2);\nconst s: Shape = { area: () => b.value };\nconst t: Box<string> = b.map((v) => v.toFixed(1));',
      ),
      [],
    );
    assert.deepEqual(codes(svc.check('const bad: Box<string> = new Box(1);')), [2322]);
    assert.deepEqual(codes(svc.check('const s: Shape = {};')), [2741]);
  });

  test('a namespace import of a node module is typed in later cells', () => {
    run('import * as path from "path";');
    assert.deepEqual(svc.check('const p: string = path.join("a", "b");'), []);
    assert.deepEqual(codes(svc.check('const n: number = path.join("a", "b");')), [2322]);
  });

  test('destructuring, enums, namespaces, overloads and import-equals carry across cells', () => {
    run(
      [
        'const { a1, b: [b1] } = { a1: 1, b: [2] };',
        'enum Color { Red, Green }',
        'namespace NS { export const k = 1; }',
        'import os = require("os");',
        'import { readFileSync as rfs } from "fs";',
        'type Pair = [number, string];',
        'function over(a: number): number;',
        'function over(a: string): string;',
        'function over(a: any) { return a; }',
      ].join('\n'),
    );
    assert.deepEqual(
      svc.check(
        'a1.toFixed(); b1.toFixed(); const c: Color = Color.Green; NS.k.toFixed(); os.cpus();\nconst p: Pair = [1, "a"]; const s: string = over("x"); rfs;',
      ),
      [],
    );
    assert.deepEqual(codes(svc.check('const n: number = over("x");')), [2322]);
  });

  test('top-level await, imports and require type-check', () => {
    assert.deepEqual(
      svc.check(
        'import { readFileSync } from "fs";\nimport fs2 = require("fs");\nconst data = await Promise.resolve(1);\nfor await (const x of [1]) {}\nconst r = require("fs");\nprocess.cwd(); Buffer.from("a"); readFileSync; fs2.existsSync("x");',
      ),
      [],
    );
  });

  test('completes members of an object from an earlier cell', () => {
    run('const model = { fit(epochs: number) { return epochs; }, layers: [1, 2] };');
    const all = svc.complete('model.', 6);
    assert.equal(all.cursorStart, 6);
    assert.equal(all.cursorEnd, 6);
    assert.ok(all.matches.includes('fit'), all.matches.join());
    assert.ok(all.matches.includes('layers'));
    assert.equal(all.items.find((i) => i.text === 'fit')?.type, 'method');
    assert.equal(all.items.find((i) => i.text === 'layers')?.type, 'property');

    const partial = svc.complete('model.fi', 8);
    assert.deepEqual(partial.matches, ['fit']);
    assert.equal(partial.cursorStart, 6);
    assert.equal(partial.cursorEnd, 8);
    assert.match(partial.items[0]!.signature ?? '', /fit\(epochs: number\): number/);

    // While typing inside an unfinished block.
    const open = svc.complete('for (const l of model.layers) {\n  model.la', 41);
    assert.deepEqual(open.matches, ['layers']);
  });

  test('completes globals, earlier names and keywords, identifier delimited', () => {
    run('const modelName = "m"; function modelFactory() {}');
    const globals = svc.complete('cons', 4);
    assert.equal(globals.cursorStart, 0);
    assert.equal(globals.cursorEnd, 4);
    assert.ok(globals.matches.includes('console'));
    assert.ok(globals.matches.includes('const'));
    assert.equal(globals.items.find((i) => i.text === 'const')?.type, 'keyword');
    assert.ok(svc.complete('disp', 4).matches.includes('display'));

    const earlier = svc.complete('let z = 1;\nmod', 14);
    assert.equal(earlier.cursorStart, 11);
    assert.deepEqual(earlier.matches.filter((m) => m.startsWith('model')).sort(), ['modelFactory', 'modelName']);
    assert.equal(earlier.items.find((i) => i.text === 'modelFactory')?.type, 'function');
    assert.equal(earlier.items.find((i) => i.text === 'modelName')?.type, 'variable');
  });

  test('inspect shows the type and TSDoc of a function from an earlier cell', () => {
    run(
      '/**\n * Scales a vector.\n * @param v - the vector\n * @param k - the factor\n */\nfunction scale(v: number[], k: number): number[] {\n  return v.map((x) => x * k);\n}',
    );
    const result = svc.inspect('scale([1, 2], 3)', 5, 0);
    assert.equal(result.found, true);
    assert.ok(result.plain.startsWith('function scale(v: number[], k: number): number[]\n\nScales a vector.'), result.plain);
    assert.match(result.plain, /@param v - the vector/);
    assert.ok(result.markdown.startsWith('```typescript\nfunction scale(v: number[], k: number): number[]\n```'));
    assert.match(result.markdown, /Scales a vector\./);

    // Inside the argument list: the callee; detail level 1 adds the source as written.
    const detailed = svc.inspect('scale(', 6, 1);
    assert.equal(detailed.found, true);
    assert.match(detailed.plain, /Scales a vector\./);
    assert.match(detailed.plain, /Source:\nfunction scale\(v: number\[\], k: number\): number\[\] \{/);

    const local = svc.inspect('console', 7, 0);
    assert.equal(local.found, true);
    assert.match(local.plain, /console: Console/);

    assert.deepEqual(svc.inspect('   ', 1, 0), { found: false, plain: '', markdown: '' });
  });

  test('isComplete', () => {
    assert.deepEqual(svc.isComplete(''), { status: 'complete' });
    assert.deepEqual(svc.isComplete('const a = 1;\nconsole.log(a)'), { status: 'complete' });
    assert.deepEqual(svc.isComplete('if (a) {'), { status: 'incomplete', indent: '  ' });
    assert.deepEqual(svc.isComplete('if (a) {\n  foo(1,'), { status: 'incomplete', indent: '    ' });
    assert.deepEqual(svc.isComplete('if (a) {\n  foo(1)'), { status: 'incomplete', indent: '  ' });
    assert.deepEqual(svc.isComplete('  const x ='), { status: 'incomplete', indent: '  ' });
    assert.deepEqual(svc.isComplete('const t = `a ${'), { status: 'incomplete', indent: '  ' });
    assert.deepEqual(svc.isComplete('const t = `abc'), { status: 'incomplete', indent: '' });
    assert.deepEqual(svc.isComplete('/* comment'), { status: 'incomplete', indent: '' });
    assert.deepEqual(svc.isComplete('a +'), { status: 'incomplete', indent: '' });
    assert.deepEqual(svc.isComplete('1 +* 2'), { status: 'invalid' });
    assert.deepEqual(svc.isComplete('let = ;'), { status: 'invalid' });
    assert.deepEqual(svc.isComplete(')'), { status: 'invalid' });
    assert.deepEqual(svc.isComplete('const s = "abc'), { status: 'invalid' });
    assert.deepEqual(svc.isComplete('%%time\nfor (;;) {'), { status: 'complete' });
    assert.deepEqual(svc.isComplete('%time 1 +* 2\n!ls -la\nobj?\nconst y = 2'), { status: 'complete' });
    assert.deepEqual(svc.isComplete('%load_ext foo\nif (y) {'), { status: 'incomplete', indent: '  ' });
  });

  test('declareGlobal makes a name type-check, and a redeclaration replaces it', () => {
    assert.deepEqual(codes(svc.check('const v: number = magicVar;')), [2304]);
    svc.declareGlobal('magicVar', 'number');
    assert.deepEqual(svc.check('const v: number = magicVar;'), []);
    svc.declareGlobal('magicVar', 'string');
    assert.deepEqual(codes(svc.check('const v: number = magicVar;')), [2322]);
  });

  test('an identical re-check returns the same result from the same program', () => {
    for (let i = 0; i < 5; i++) run(`const v${i} = ${i};`);
    const code = 'const w: string = v1;\nv2.toFixed();';
    const first = svc.check(code);
    const program = svc['service'].getProgram();
    const second = svc.check(code);
    assert.deepEqual(second, first);
    assert.deepEqual(codes(first), [2322]);
    assert.equal(svc['service'].getProgram(), program);
  });

  test('cells that declare nothing do not grow the program', () => {
    run('const kept = 1;');
    svc.check('1 + 1');
    const files = svc['service'].getProgram()!.getSourceFiles().length;
    for (let i = 0; i < 20; i++) run('1 + 1; console.log(kept);');
    svc.check('1 + 1');
    assert.equal(svc['service'].getProgram()!.getSourceFiles().length, files);
    assert.deepEqual(svc.declaredNames().map((n) => n.name), ['kept']);
  });

  test('declaredNames lists the latest declaration of each name with its type', () => {
    run('const x = 1;\nlet y = "a";');
    const last = run('var x = [1, 2];\ninterface I { a: number }\nimport * as path from "path";');
    assert.deepEqual(svc.declaredNames(), [
      { name: 'I', kind: 'interface', cell: last, type: 'interface I' },
      { name: 'path', kind: 'import', cell: last, type: svc.declaredNames()[1]!.type },
      { name: 'x', kind: 'var', cell: last, type: 'var x: number[]' },
      { name: 'y', kind: 'let', cell: last - 1, type: 'let y: string' },
    ]);
    assert.doesNotMatch(svc.declaredNames()[1]!.type, /alias|import path/);
  });

  test('reset forgets names and global declarations', () => {
    run('const gone = 1;');
    svc.declareGlobal('alsoGone', 'number');
    assert.deepEqual(svc.check('gone; alsoGone;'), []);
    svc.reset();
    assert.deepEqual(codes(svc.check('gone; alsoGone;')), [2304, 2304]);
    assert.deepEqual(svc.declaredNames(), []);
  });

  test('syntax errors at the end of an unfinished cell are reported at its end', () => {
    const diagnostics = svc.check('if (true) {\n  console.log(1);');
    assert.deepEqual(codes(diagnostics), [1005]);
    assert.equal(diagnostics[0]!.line, 2);
    assert.equal(diagnostics[0]!.column, 18);
    assert.equal(diagnostics[0]!.message, "'}' expected.");
  });

  test('nothing is written to disk', () => {
    run('const onDisk = 1;');
    svc.check('onDisk;');
    assert.equal(fs.existsSync(path.join(cwd, VIRTUAL_DIR)), false);
  });
});

describe('module resolution', () => {
  test("npm imports resolve from the notebook's node_modules, and unused top-level names are not reported", () => {
    const dir = tempDir({ 'tsconfig.json': '{ "compilerOptions": { "noUnusedLocals": true } }' });
    const pkg = path.join(dir, 'node_modules', 'fake-pkg');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), '{ "name": "fake-pkg", "version": "1.0.0", "types": "index.d.ts" }');
    fs.writeFileSync(path.join(pkg, 'index.d.ts'), 'export declare function hello(name: string): string;');
    const service = createService(dir);
    service.commit('import { hello } from "fake-pkg";', 1);
    assert.deepEqual(service.check('const greeting: string = hello("you");'), []);
    assert.deepEqual(codes(service.check('hello(42);')), [2345]);
    const unused = service.check('const topLevel = 1;\nfunction f() { const inner = 1; }');
    assert.deepEqual(codes(unused), [6133]);
    assert.match(unused[0]!.message, /'inner'/);
  });

  test("relative imports resolve from the notebook's directory and follow edits of the file", () => {
    const dir = tempDir({ 'helpers.ts': 'export function triple(n: number): number { return n * 3; }\n' });
    const service = createService(dir);
    service.commit('import { triple } from "./helpers";', 1);
    assert.deepEqual(service.check('triple(2).toFixed();'), []);
    assert.deepEqual(codes(service.check('const s: string = triple(2);')), [2322]);
    assert.deepEqual(service.check('import * as h from "./helpers.js";\nh.triple(1).toFixed();'), []);

    fs.writeFileSync(path.join(dir, 'helpers.ts'), 'export function triple(n: number): string { return String(n * 3); }\n');
    const later = new Date(Date.now() + 10_000);
    fs.utimesSync(path.join(dir, 'helpers.ts'), later, later);
    assert.deepEqual(service.check('const s: string = triple(2);'), []);
  });
});

describe('cell rewriting', () => {
  test('exportedCellText exports top-level declarations without changing line numbers', () => {
    const code = [
      'import fs from "fs";',
      'import type { Stats } from "fs";',
      'const { a, b: [c] } = { a: 1, b: [2] };',
      'export const already = 1;',
      'declare const ambient: number;',
      '/** doc */',
      'async function f() {}',
      'console.log(a);',
      'declare module "foo" {}',
    ].join('\n');
    const analysis = analyzeCell(code);
    assert.deepEqual(
      analysis.names.map((n) => `${n.kind} ${n.name}`),
      ['import fs', 'import Stats', 'const a', 'const c', 'const already', 'const ambient', 'function f'],
    );
    const lines = exportedCellText(code, analysis).split('\n');
    assert.deepEqual(lines, [
      'import fs from "fs";',
      'import type { Stats } from "fs";',
      'export const { a, b: [c] } = { a: 1, b: [2] };',
      'export const already = 1;',
      'export declare const ambient: number;',
      '/** doc */',
      'export async function f() {}',
      'console.log(a);',
      'declare module "foo" {}',
      'export { fs }; export type { Stats };',
    ]);
    assert.deepEqual(analyzeCell('1 + 1; console.log("x"); { const inner = 1; }').names, []);
  });
});

describe('compiler options', () => {
  test('a tsconfig.json with "strict": false changes diagnostics; setCwd rereads it', () => {
    const code = 'function f(a) { return a; }\nlet n: number = null;';
    const strictDir = tempDir();
    const looseDir = tempDir({ 'tsconfig.json': '{ "compilerOptions": { "strict": false, "outDir": "out", "module": "commonjs" } }' });
    const service = createService(strictDir);
    service.commit('const kept = 1;', 1);
    assert.deepEqual(codes(service.check(code)), [7006, 2322]);
    service.setCwd(looseDir);
    assert.deepEqual(service.configErrors(), []);
    assert.deepEqual(service.check(code + '\nkept.toFixed();'), []);
    assert.deepEqual(codes(service.check('kept.foo;')), [2339]);
    // And `extends` is followed.
    const extendsDir = tempDir({ 'base.json': '{ "compilerOptions": { "strict": false } }', 'tsconfig.json': '{ "extends": "./base.json" }' });
    service.setCwd(extendsDir);
    assert.deepEqual(service.check(code), []);
    service.setCwd(strictDir);
    assert.deepEqual(codes(service.check(code)), [7006, 2322]);
  });

  test('a broken tsconfig.json is reported and the defaults are used', () => {
    const dir = tempDir({ 'tsconfig.json': '{ "compilerOptions": { "strict": fals' });
    let service: NotebookLanguageService | undefined;
    assert.doesNotThrow(() => {
      service = createService(dir);
    });
    const errors = service!.configErrors();
    assert.ok(errors.length > 0);
    assert.match(errors[0]!, /tsconfig\.json/);
    assert.deepEqual(codes(service!.check('function f(a) { return a; }')), [7006]);

    const unknownOption = tempDir({ 'tsconfig.json': '{ "compilerOptions": { "strictest": true } }' });
    service!.setCwd(unknownOption);
    assert.match(service!.configErrors().join('\n'), /strictest/);
  });
});

test('bare imports the notebook folder cannot resolve fall back to the kernel own packages', () => {
  const service = createService(tempDir());
  const diagnostics = service.check('import ts from "typescript";\nconst v: string = ts.version;\nv.toUpperCase();');
  assert.deepEqual(codes(diagnostics), []);
  const missing = service.check('import nothing from "no-such-package-hyperlab";');
  assert.deepEqual(codes(missing), [2307]);
});

describe('types loaded ahead of use', () => {
  /** Paths `ts.sys[method]` was called with while `body` ran. */
  function calls<T>(method: 'readFile' | 'fileExists', body: () => T): { paths: string[]; value: T } {
    const original = ts.sys[method] as (p: string, ...rest: unknown[]) => unknown;
    const paths: string[] = [];
    (ts.sys as unknown as Record<string, unknown>)[method] = (p: string, ...rest: unknown[]) => {
      paths.push(p);
      return original.call(ts.sys, p, ...rest);
    };
    try {
      return { paths, value: body() };
    } finally {
      (ts.sys as unknown as Record<string, unknown>)[method] = original;
    }
  }

  function packageDir(): string {
    const dir = tempDir();
    const pkg = path.join(dir, 'node_modules', 'preload-pkg');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), '{ "name": "preload-pkg", "version": "1.0.0", "types": "index.d.ts" }');
    fs.writeFileSync(path.join(pkg, 'index.d.ts'), 'export * from "./run";\n');
    fs.writeFileSync(path.join(pkg, 'run.d.ts'), 'export interface Run { name: string; metrics: Record<string, number> }\n');
    return dir;
  }

  test('preloadTypes reads a package\'s declarations before a global of its type is declared; no name leaks into cells', () => {
    const dir = packageDir();
    const service = createService(dir);
    service.warmUp();
    const preload = calls('readFile', () => service.preloadTypes(['preload-pkg', 'no-such-package-hyperlab']));
    assert.ok(preload.paths.some((p) => p.endsWith('/preload-pkg/run.d.ts')), preload.paths.join('\n'));
    const later = calls('readFile', () => {
      service.declareGlobal('base', 'import("preload-pkg").Run');
      return service.check('const accuracy: number = base.metrics.accuracy;\nbase.name.toUpperCase();');
    });
    assert.deepEqual(later.value, []);
    assert.deepEqual(later.paths.filter((p) => p.includes('preload-pkg')), [], 'nothing of the package is read again');
    assert.deepEqual(codes(service.check('base.nosuch;')), [2339]);
    // The preload file's bindings are not globals, and a package that does not resolve is no cell's error.
    assert.deepEqual(codes(service.check('__preload0;')), [2304]);
    assert.deepEqual(service.check('const one = 1;'), []);
  });

  test("a new program does not test every place an unresolved import was looked for (@types/node's built-in imports)", () => {
    const service = createService(tempDir());
    service.warmUp();
    service.declareGlobal('first', 'number');
    service.check('first;');
    const probes = calls('fileExists', () => {
      service.declareGlobal('second', 'string');
      return service.check('second.toUpperCase();');
    });
    assert.deepEqual(probes.value, []);
    // undici-types import node's built-ins from 25 files, looked for in vain at ~6,000 places; they
    // used to be tested on each module resolution (12,000 calls for this check).
    assert.ok(probes.paths.length < 200, `${probes.paths.length} fileExists calls`);
  });
});

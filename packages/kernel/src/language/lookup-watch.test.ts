import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LookupWatch } from './lookup-watch.js';

test('LookupWatch: sees a file appear at a watched place, also under folders that did not exist, and tests places only when their folder changed', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hl-lookup-'));
  try {
    const local = path.join(dir, 'later.ts');
    const deep = path.join(dir, 'node_modules', 'pkg', 'index.d.ts');
    let tests = 0;
    const watch = new LookupWatch([local, path.join(dir, 'later.tsx'), deep], (location) => {
      tests++;
      return existsSync(location);
    });
    assert.equal(watch.appeared(), false);
    assert.equal(tests, 0, 'nothing changed: no place was tested');

    // Another file in the folder: its places are tested once, then it is quiet again.
    writeFileSync(path.join(dir, 'unrelated.txt'), 'x');
    utimesSync(dir, new Date(), new Date(Date.now() + 5000));
    assert.equal(watch.appeared(), false);
    assert.ok(tests > 0);
    const after = tests;
    assert.equal(watch.appeared(), false);
    assert.equal(tests, after);

    // A package installed: node_modules/pkg/index.d.ts under folders that did not exist.
    mkdirSync(path.join(dir, 'node_modules', 'pkg'), { recursive: true });
    writeFileSync(deep, 'export {};');
    utimesSync(dir, new Date(), new Date(Date.now() + 10000));
    assert.equal(watch.appeared(), true);

    // The user writes the file a cell imported.
    const second = new LookupWatch([local], existsSync);
    assert.equal(second.appeared(), false);
    writeFileSync(local, 'export const x = 1;');
    utimesSync(dir, new Date(), new Date(Date.now() + 15000));
    assert.equal(second.appeared(), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The CLI on the project's own example notebooks (notebooks/): their stored records, a report,
 * and a hand-edited metric in a copy of the quickstart failing `verify` with that metric named.
 * (CI also runs `hyperlab verify` on each example notebook itself.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertUntouched, hyperlab, snapshot, tmpDir } from './testing.js';

const NOTEBOOKS = path.resolve(__dirname, '..', '..', '..', 'notebooks');
const quickstart = path.join(NOTEBOOKS, 'quickstart.ipynb');

test('runs: the example notebooks carry their run records', () => {
  const quick = hyperlab(['runs', quickstart, '--format', 'json']);
  assert.equal(quick.status, 0, quick.stderr);
  assert.deepEqual(
    JSON.parse(quick.stdout).map((r: { name: string }) => r.name),
    ['base', 'lora'],
  );
  const mnist = hyperlab(['runs', path.join(NOTEBOOKS, 'adapters-mnist.ipynb'), '--format', 'json']);
  assert.deepEqual(
    JSON.parse(mnist.stdout).map((r: { name: string }) => r.name),
    ['base', 'full', 'lora', 'dora', 'vera', 'ia3'],
  );
});

test('report on the quickstart: one offline HTML file with its plots and runs', () => {
  const out = path.join(tmpDir(), 'quickstart.html');
  const before = snapshot(quickstart);
  const r = hyperlab(['report', quickstart, '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  const html = fs.readFileSync(out, 'utf8');
  assert.match(html, /Plotly\.newPlot|Plotly\.react/);
  for (const name of ['base', 'lora']) assert.ok(html.includes(`>${name}<`), `run ${name} in the report`);
  assertUntouched(before);
});

test('a copy of the quickstart with a stored metric edited by hand fails verify, naming the metric', () => {
  const dir = tmpDir();
  const copy = path.join(dir, 'quickstart.ipynb');
  const original = fs.readFileSync(quickstart, 'utf8');
  const edited = original.replace(/("accuracy": )0\.8970000147819519/, '$10.91');
  assert.notEqual(edited, original, 'the stored lora accuracy was found and edited');
  fs.writeFileSync(copy, edited);
  const before = snapshot(copy);
  const r = hyperlab(['verify', copy], { timeoutMs: 180_000 });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /\n\d+ +lora +metric accuracy +0\.91 +0\.897 +0\.013\d* +drifted\n/);
  assert.match(r.stdout, /\n\d+ +base +metric accuracy +0\.973 +0\.973 +0 +matched\n/);
  assert.match(r.stdout, /NOT verified: 1 of 2 matched; cell \d+ "lora" drifted \(metric accuracy\)/);
  assertUntouched(before);
});

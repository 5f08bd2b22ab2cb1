import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAGICS_MIME, templateCell, templateEntries, takenNames, templatesOf } from './template-text';

const adapter = { name: 'adapter', help: 'Fine-tune.', template: 'model:\n  mlp: [784, 10]\n\n', schema: {} };

test('templatesOf reads the magics from the kernel output, ignoring other outputs and malformed entries', () => {
  assert.deepEqual(templatesOf([{ 'text/plain': 'x' }, { [MAGICS_MIME]: { magics: [adapter, { name: 3 }] } }]), [adapter]);
  assert.deepEqual(templatesOf([{ 'text/plain': 'x' }]), []);
});

test('templateCell: the magic line with a fresh --as name, then the body without trailing blank lines', () => {
  const [entry] = templateEntries([adapter]);
  assert.equal(templateCell(entry, new Set()), '%%adapter --as adapter1\nmodel:\n  mlp: [784, 10]');
  assert.equal(templateCell(entry, new Set(['adapter1', 'adapter2'])), '%%adapter --as adapter3\nmodel:\n  mlp: [784, 10]');
});

test('templateEntries: a magic with variants offers one entry per variant, named after it', () => {
  const withVariants = { ...adapter, variants: [{ key: 'lora', help: 'LoRA (Hu et al. 2021)', template: 'adapter:\n  method: lora\n' }, { key: 'sparse-ft', help: 'Sparse', template: 'adapter:\n  method: sparse-ft\n' }, { key: 7 }] };
  const continual = { name: 'continual', help: 'Continual.', template: 'benchmark: x\n', schema: {} };
  const entries = templateEntries([withVariants as never, continual]);
  assert.deepEqual(entries.map((e) => e.label), ['%%adapter · lora — LoRA (Hu et al. 2021)', '%%adapter · sparse-ft — Sparse', '%%continual — Continual.']);
  assert.equal(templateCell(entries[0], new Set(['lora1'])), '%%adapter --as lora2\nadapter:\n  method: lora');
  assert.equal(templateCell(entries[1], new Set()), '%%adapter --as sparse_ft1\nadapter:\n  method: sparse-ft');
});

test('takenNames finds --as NAME and --as=NAME', () => {
  assert.deepEqual([...takenNames(['%%adapter --as base\nmodel: x', '%%experiment --as=exp1', 'const asx = 1'])].sort(), ['base', 'exp1']);
});

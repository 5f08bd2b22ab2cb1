import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAGICS_MIME, templateCell, takenNames, templatesOf } from './template-text';

const adapter = { name: 'adapter', help: 'Fine-tune.', template: 'model:\n  mlp: [784, 10]\n\n', schema: {} };

test('templatesOf reads the magics from the kernel output, ignoring other outputs and malformed entries', () => {
  assert.deepEqual(templatesOf([{ 'text/plain': 'x' }, { [MAGICS_MIME]: { magics: [adapter, { name: 3 }] } }]), [adapter]);
  assert.deepEqual(templatesOf([{ 'text/plain': 'x' }]), []);
});

test('templateCell: the magic line with a fresh --as name, then the body without trailing blank lines', () => {
  assert.equal(templateCell(adapter, new Set()), '%%adapter --as adapter1\nmodel:\n  mlp: [784, 10]');
  assert.equal(templateCell(adapter, new Set(['adapter1', 'adapter2'])), '%%adapter --as adapter3\nmodel:\n  mlp: [784, 10]');
});

test('takenNames finds --as NAME and --as=NAME', () => {
  assert.deepEqual([...takenNames(['%%adapter --as base\nmodel: x', '%%experiment --as=exp1', 'const asx = 1'])].sort(), ['base', 'exp1']);
});

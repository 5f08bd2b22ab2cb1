import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellMagicName, cellMimeType, YAML_MAGICS, YAML_MIME } from './yaml-magic';

test('cells starting with an experiment magic are YAML; others keep the notebook MIME type', () => {
  assert.equal(cellMagicName('%%adapter --as x\nmodel: base'), 'adapter');
  assert.equal(cellMagicName('  %%adapter'), 'adapter');
  assert.equal(cellMagicName('%time 1'), undefined);
  assert.equal(cellMimeType('%%adapter --as x\nmodel: base', 'text/typescript', YAML_MAGICS), YAML_MIME);
  assert.equal(cellMimeType('%%experiment\n({ metrics: {} })', 'text/typescript', YAML_MAGICS), 'text/typescript');
  assert.equal(cellMimeType('const a = "%%adapter";', 'text/typescript', YAML_MAGICS), 'text/typescript');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapePointerSegment, jsonPointerOffsets, lineColumn } from './json-position.js';

test('jsonPointerOffsets finds where each pointer\'s value starts', () => {
  const text = '{\n "a": [1, {"b/c": "x\\"y", "d": []}],\n "e~f": {"g": null},\n "": true\n}';
  const at = jsonPointerOffsets(text, ['', '/a', '/a/0', '/a/1/b~1c', '/a/1/d', '/e~0f/g', '/', '/missing', '/a/7']);
  const show = (p: string) => text.slice(at.get(p)!, at.get(p)! + 6);
  assert.equal(at.get(''), 0);
  assert.equal(show('/a'), '[1, {"');
  assert.equal(show('/a/0'), '1, {"b');
  assert.equal(show('/a/1/b~1c'), '"x\\"y"');
  assert.equal(show('/a/1/d'), '[]}],\n');
  assert.equal(show('/e~0f/g'), 'null},');
  assert.equal(show('/'), 'true\n}');
  assert.equal(at.has('/missing'), false);
  assert.equal(at.has('/a/7'), false);
  assert.deepEqual(lineColumn(text, at.get('/e~0f/g')!), { line: 3, column: 15 });
  assert.equal(jsonPointerOffsets(text, []).size, 0);
});

test('escapePointerSegment follows RFC 6901', () => {
  assert.equal(escapePointerSegment('a/b~c'), 'a~1b~0c');
});

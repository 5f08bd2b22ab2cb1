import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { globToRegExp, HistoryStore } from './history.js';

function tempFile() {
  return path.join(mkdtempSync(path.join(os.tmpdir(), 'hl-history-')), 'history.jsonl');
}

test('history persists across kernel sessions, numbering sessions upward', () => {
  const file = tempFile();
  const first = new HistoryStore(file);
  assert.equal(first.session, 1);
  first.append(1, 'const a = 1;');
  first.append(2, 'a + 1');
  const second = new HistoryStore(file);
  assert.equal(second.session, 2);
  second.append(1, 'a * 2');
  assert.deepEqual(second.query({ hist_access_type: 'tail', n: 3 }).map((e) => e.source), ['const a = 1;', 'a + 1', 'a * 2']);
  assert.deepEqual(second.query({ hist_access_type: 'range', session: 1, start: 2, stop: 3 }).map((e) => e.source), ['a + 1']);
  assert.deepEqual(second.query({ hist_access_type: 'range', session: -1, start: 1 }).length, 2);
  assert.deepEqual(second.query({ hist_access_type: 'range', session: 0 }).map((e) => e.source), ['a * 2']);
});

test('search uses glob patterns, unique and n', () => {
  const store = new HistoryStore(tempFile());
  for (const [i, source] of ['6 * 7', 'x = 1', '6 * 7', '6  *  7'].entries()) store.append(i + 1, source);
  assert.equal(store.query({ hist_access_type: 'search', pattern: '6 ?*7' }).length, 3);
  assert.equal(store.query({ hist_access_type: 'search', pattern: '6 ?*7', unique: true }).length, 2);
  assert.equal(store.query({ hist_access_type: 'search', pattern: '*', n: 2 }).length, 2);
  assert.ok(globToRegExp('a?c').test('abc'));
  assert.ok(!globToRegExp('a?c').test('abbc'));
});

test('a torn line is skipped, not fatal', () => {
  const file = tempFile();
  new HistoryStore(file).append(1, 'ok');
  appendFileSync(file, '{"session": 1, "line": 2, "sou');
  assert.deepEqual(new HistoryStore(file).query({ hist_access_type: 'tail', n: 10 }).map((e) => e.source), ['ok']);
});

test('%history formats ranges, -n and -g', () => {
  const store = new HistoryStore(tempFile());
  store.append(1, 'first');
  store.append(2, 'second');
  store.append(3, 'third');
  assert.equal(store.magic(['-n', '2-3']), '2: second\n3: third');
  assert.equal(store.magic(['-g', 'eco']), 'second');
  assert.throws(() => store.magic(['x-y']), /cannot read "x-y"/);
});

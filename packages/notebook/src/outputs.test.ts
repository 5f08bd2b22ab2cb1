import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CodeCell } from './nbformat.js';
import { OutputCollector } from './outputs.js';

const cell = (): CodeCell => ({ cell_type: 'code', metadata: {}, source: '', execution_count: null, outputs: [] });
const msg = (msg_type: string, content: Record<string, unknown>) => ({ header: { msg_type }, content });
const display = (text: string, id?: string, type = 'display_data') =>
  msg(type, { data: { 'text/plain': text }, metadata: {}, ...(id ? { transient: { display_id: id } } : {}), ...(type === 'execute_result' ? { execution_count: 3 } : {}) });

test('streams of the same name merge; carriage returns overwrite the line, as nbconvert does', () => {
  const c = cell();
  const o = new OutputCollector();
  o.handle(c, msg('stream', { name: 'stdout', text: 'epoch 1\n 10%\r' }));
  o.handle(c, msg('stream', { name: 'stdout', text: ' 50%\r100%\n' }));
  o.handle(c, msg('stream', { name: 'stderr', text: 'warn\n' }));
  o.handle(c, msg('stream', { name: 'stdout', text: 'done\n' }));
  assert.deepEqual(c.outputs, [
    { output_type: 'stream', name: 'stdout', text: 'epoch 1\n100%\n' },
    { output_type: 'stream', name: 'stderr', text: 'warn\n' },
    { output_type: 'stream', name: 'stdout', text: 'done\n' },
  ]);
});

test('display_data, execute_result and error become outputs; transient display ids are not saved', () => {
  const c = cell();
  const o = new OutputCollector();
  o.handle(c, msg('status', { execution_state: 'busy' }));
  o.handle(c, msg('execute_input', { code: 'x', execution_count: 3 }));
  o.handle(c, display('shown', 'd1'));
  o.handle(c, display('result', undefined, 'execute_result'));
  o.handle(c, msg('error', { ename: 'Error', evalue: 'boom', traceback: ['Error: boom'] }));
  assert.deepEqual(c.outputs, [
    { output_type: 'display_data', data: { 'text/plain': 'shown' }, metadata: {} },
    { output_type: 'execute_result', execution_count: 3, data: { 'text/plain': 'result' }, metadata: {} },
    { output_type: 'error', ename: 'Error', evalue: 'boom', traceback: ['Error: boom'] },
  ]);
});

test('update_display_data replaces every output with that id, in any cell; a new display with a known id updates the others too', () => {
  const a = cell();
  const b = cell();
  const o = new OutputCollector();
  o.handle(a, display('v1', 'plot'));
  o.handle(a, display('other', 'x'));
  o.startCell();
  o.handle(b, msg('update_display_data', { data: { 'text/plain': 'v2' }, metadata: { m: 1 }, transient: { display_id: 'plot' } }));
  assert.deepEqual(a.outputs[0], { output_type: 'display_data', data: { 'text/plain': 'v2' }, metadata: { m: 1 } });
  assert.deepEqual(b.outputs, [], 'an update adds no output');
  o.handle(b, display('v3', 'plot'));
  assert.equal(a.outputs[0].output_type === 'display_data' && a.outputs[0].data['text/plain'], 'v3');
  assert.equal(b.outputs.length, 1);
  assert.equal(a.outputs[1].output_type === 'display_data' && a.outputs[1].data['text/plain'], 'other');
  o.handle(b, msg('update_display_data', { data: { 'text/plain': 'ignored' }, metadata: {}, transient: { display_id: 'unknown' } }));
  assert.equal(b.outputs.length, 1);
});

test('clear_output clears now, or with wait just before the next output; cleared displays are no longer updated', () => {
  const c = cell();
  const o = new OutputCollector();
  o.handle(c, display('old', 'd'));
  o.handle(c, msg('clear_output', { wait: false }));
  assert.deepEqual(c.outputs, []);
  o.handle(c, msg('stream', { name: 'stdout', text: 'frame 1\n' }));
  o.handle(c, msg('clear_output', { wait: true }));
  assert.equal(c.outputs.length, 1, 'wait: not cleared yet');
  o.handle(c, msg('stream', { name: 'stdout', text: 'frame 2\n' }));
  assert.deepEqual(c.outputs, [{ output_type: 'stream', name: 'stdout', text: 'frame 2\n' }]);
  const kept = cell();
  o.handle(kept, display('kept', 'd2'));
  o.handle(c, display('also', 'd2'));
  o.handle(c, msg('clear_output', { wait: false }));
  o.handle(c, msg('update_display_data', { data: { 'text/plain': 'new' }, metadata: {}, transient: { display_id: 'd2' } }));
  assert.equal(kept.outputs[0].output_type === 'display_data' && kept.outputs[0].data['text/plain'], 'new');
  assert.deepEqual(c.outputs, []);
  o.handle(c, msg('stream', { name: 'stderr', text: 'last words\n' }));
  o.handle(c, msg('clear_output', { wait: true }));
  o.startCell();
  o.handle(c, msg('stream', { name: 'stdout', text: 'next cell\n' }));
  assert.equal(c.outputs.length, 2, 'a pending wait-clear does not carry into the next cell');
});

/** Run records out of IOPub messages, as JupyterLab's output area would keep them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_RECORD_MIME } from '../records';
import { RecordCollector, recordInBundle } from './collect';

const record = (name: string) => ({ schema: 'hyperlab.run/v1', id: name, name, config: {}, metrics: { acc: 1 }, contentHash: `h-${name}` });
const msg = (msg_type: string, content: Record<string, unknown>) => ({ header: { msg_type }, content });
const display = (data: Record<string, unknown>, displayId?: string, type = 'display_data') => msg(type, { data, metadata: {}, ...(displayId ? { transient: { display_id: displayId } } : {}) });
const names = (c: RecordCollector) => c.records().map((r) => [r.cellIndex, r.outputIndex, r.record.name]);

test('records from display_data and execute_result, in cell then output order, with output indexes', () => {
  const c = new RecordCollector();
  c.handle(4, display({ [RUN_RECORD_MIME]: record('late'), 'text/html': '<b>' }));
  c.handle(1, msg('stream', { name: 'stdout', text: 'epoch 1\n' }));
  c.handle(1, msg('stream', { name: 'stdout', text: 'epoch 2\n' }));
  c.handle(1, display({ 'text/plain': 'figure' }));
  c.handle(1, display({ [RUN_RECORD_MIME]: record('a') }));
  c.handle(1, display({ [RUN_RECORD_MIME]: record('b') }, undefined, 'execute_result'));
  c.handle(1, msg('status', { execution_state: 'idle' }));
  assert.deepEqual(names(c), [[1, 2, 'a'], [1, 3, 'b'], [4, 0, 'late']], 'the two stdout chunks are one output');
});

test('update_display_data replaces the record of every output with that display id', () => {
  const c = new RecordCollector();
  c.handle(0, display({ 'text/plain': 'running…' }, 'run-1'));
  c.handle(0, msg('update_display_data', { data: { [RUN_RECORD_MIME]: record('final') }, metadata: {}, transient: { display_id: 'run-1' } }));
  c.handle(0, msg('update_display_data', { data: { [RUN_RECORD_MIME]: record('unknown') }, metadata: {}, transient: { display_id: 'never-shown' } }));
  assert.deepEqual(names(c), [[0, 0, 'final']]);
  c.handle(2, display({ [RUN_RECORD_MIME]: record('again') }, 'run-1'));
  assert.deepEqual(names(c), [[0, 0, 'again'], [2, 0, 'again']], 'a new display with a known id updates the old ones too');
  c.handle(2, msg('update_display_data', { data: { 'text/plain': 'gone' }, metadata: {}, transient: { display_id: 'run-1' } }));
  assert.deepEqual(names(c), [], 'an update without the record MIME removes the records');
});

test('clear_output clears the cell now, or with wait just before its next output', () => {
  const c = new RecordCollector();
  c.handle(0, display({ [RUN_RECORD_MIME]: record('kept') }));
  c.handle(1, display({ [RUN_RECORD_MIME]: record('cleared') }, 'd'));
  c.handle(1, msg('clear_output', { wait: false }));
  assert.deepEqual(names(c), [[0, 0, 'kept']]);
  c.handle(1, msg('update_display_data', { data: { [RUN_RECORD_MIME]: record('x') }, transient: { display_id: 'd' } }));
  assert.deepEqual(names(c), [[0, 0, 'kept']], 'a cleared output is not updated back');
  c.handle(1, display({ [RUN_RECORD_MIME]: record('first') }));
  c.handle(1, msg('clear_output', { wait: true }));
  assert.deepEqual(names(c), [[0, 0, 'kept'], [1, 0, 'first']], 'wait keeps the output until the next one');
  c.handle(1, display({ [RUN_RECORD_MIME]: record('second') }));
  assert.deepEqual(names(c), [[0, 0, 'kept'], [1, 0, 'second']]);
});

test('recordInBundle: objects and JSON strings that look like run records; nothing else', () => {
  assert.equal(recordInBundle({ [RUN_RECORD_MIME]: JSON.stringify(record('s')) })?.name, 's');
  assert.equal(recordInBundle({ [RUN_RECORD_MIME]: '{not json' }), undefined);
  assert.equal(recordInBundle({ [RUN_RECORD_MIME]: { name: 'no schema' } }), undefined);
  assert.equal(recordInBundle(undefined), undefined);
});

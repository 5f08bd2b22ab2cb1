import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { launchKernel } from './launcher.js';

test('launchKernel: a command that does not exist is a clear error, not a crash', async () => {
  await assert.rejects(launchKernel({ argv: ['/nonexistent/kernel-binary', '{connection_file}'] }), /could not start the kernel \(\/nonexistent\/kernel-binary\): spawn .*ENOENT/);
});

test('KernelClient.close rejects requests in flight; an aborted request rejects; dispose removes the connection file', async () => {
  const kernel = await launchKernel();
  const dir = path.dirname(kernel.connectionFile);
  assert.ok(existsSync(kernel.connectionFile));
  const controller = new AbortController();
  const aborted = kernel.client.execute('await new Promise((r) => setTimeout(r, 60_000))', { signal: controller.signal, timeoutMs: 120_000 });
  controller.abort();
  await assert.rejects(aborted, /execute_request was aborted/);
  const pending = assert.rejects(kernel.client.execute('1 + 1', { timeoutMs: 120_000 }), /the kernel client was closed/);
  await kernel.dispose();
  await pending;
  assert.equal(existsSync(dir), false);
});

test('ping recovers after a missed heartbeat', async () => {
  const kernel = await launchKernel();
  try {
    assert.ok((await kernel.client.ping()) >= 0);
    kernel.process.kill('SIGSTOP');
    await assert.rejects(kernel.client.ping());
    kernel.process.kill('SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok((await kernel.client.ping()) >= 0, 'the next ping works');
  } finally {
    kernel.process.kill('SIGCONT');
    await kernel.dispose();
  }
});

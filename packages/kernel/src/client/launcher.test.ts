import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { streamText } from './client.js';
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

for (const [transport, encryption] of [['tcp', true], ['ipc', false], ['ipc', true]] as const) {
  test(`launchKernel over ${transport}${encryption ? ' with CurveZMQ' : ''} runs a cell and answers heartbeats`, async () => {
    const kernel = await launchKernel({ transport, encryption });
    try {
      assert.equal(kernel.info.transport, transport);
      assert.equal(typeof kernel.info.curve_publickey, encryption ? 'string' : 'undefined');
      if (transport === 'ipc') assert.ok(existsSync(`${kernel.info.ip}-${kernel.info.shell_port}`), 'the shell socket file exists');
      const { reply, iopub } = await kernel.client.execute('console.log("over " + 6 * 7)', { timeoutMs: 60_000 });
      assert.equal(reply.content.status, 'ok');
      assert.equal(streamText(iopub, 'stdout'), 'over 42\n');
      assert.ok((await kernel.client.ping()) >= 0);
      assert.match(kernel.stderr(), encryption ? /kernel listening \(.*CurveZMQ\)/ : /kernel listening \((?!.*CurveZMQ)/);
    } finally {
      await kernel.dispose();
    }
  });
}

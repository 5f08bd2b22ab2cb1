import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Redis } from 'ioredis';
import { pingRedis, startRedis } from './redis-testing.js';

test('startRedis: a server on a free loopback port; restart loses the data without persistence and keeps it with aof; stop cleans up', async () => {
  const [plain, aof] = await Promise.all([startRedis(), startRedis({ persistence: 'aof' })]);
  try {
    assert.notEqual(plain.port, aof.port);
    assert.match(plain.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
    for (const server of [plain, aof]) {
      const client = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
      try {
        await client.set('k', 'v');
        assert.equal(await client.config('GET', 'save').then((r) => (r as string[])[1]), '');
        const pid = server.pid;
        await server.restart();
        assert.notEqual(server.pid, pid);
        assert.equal(await client.get('k'), server === aof ? 'v' : null);
      } finally {
        client.disconnect();
      }
    }
  } finally {
    await Promise.all([plain.stop(), aof.stop()]);
  }
  assert.equal(fs.existsSync(plain.dir), false);
  assert.equal(await pingRedis(plain.port, 300), false);
});

// `hyperlab worker`'s arguments (no Redis needed). Its behaviour with Redis, real trials and
// killed workers is tested in @hyperlab/magics (sweep/redis-engine.test.ts), which it loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cliEnv } from './testing.js';

const CLI = path.join(__dirname, 'cli.js');

function run(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: cliEnv(), timeout: 30000 });
}

test('worker: --help lists its flags; bad arguments exit 2 naming the flag', () => {
  const help = run(['worker', '--help']);
  assert.equal(help.status, 0);
  assert.ok(help.stdout.startsWith('usage: hyperlab worker --redis URL [--concurrency N] [--queue NAME]'), help.stdout);
  for (const flag of ['--lock-duration MS', '--stalled-interval MS', '--max-stalled-count N', '--backend NAME']) assert.ok(help.stdout.includes(flag), flag);
  assert.match(run(['--help']).stdout, /^ {2}hyperlab worker --redis URL/m);
  const cases: Array<[string[], RegExp]> = [
    [['worker'], /^hyperlab worker: --redis URL is required\n/],
    [['worker', 'nb.ipynb', '--redis', 'redis://127.0.0.1:1'], /worker takes no positional arguments, got nb\.ipynb/],
    [['worker', '--redis', 'redis://127.0.0.1:1', '--concurrency', '0'], /--concurrency must be an integer ≥ 1, got "0"/],
    [['worker', '--redis', 'redis://127.0.0.1:1', '--lock-duration', '1.5'], /--lock-duration must be an integer ≥ 1000, got "1.5"/],
    [['worker', '--redis', 'redis://127.0.0.1:1', '--bogus'], /unknown option "--bogus"/],
    [['worker', '--redis', 'redis://127.0.0.1:1', '--backend', 'gpu'], /--backend must be one of node, wasm, cpu, auto, got "gpu"/],
    [['worker', '--redis', 'localhost:6379'], /must start with redis:\/\/ or rediss:\/\//],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

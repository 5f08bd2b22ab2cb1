// The README's shell commands, run as written from a fresh clone of this checkout.
//
// Every line of every ```sh block in README.md is run with bash in a `git clone` of HEAD, in the
// README's order, and must exit 0. Two lines get special treatment, both by what they are:
// - `npm run lab` never exits (it ends in `jupyter lab`): it is started in its own process group,
//   the server it opens is asked over its REST API for its kernelspecs and to start a notebook
//   session with no kernel named (which must be HyperLab's), then it is stopped. The line itself
//   is unchanged; only the environment shapes the server (a JUPYTER_CONFIG_DIR with a free
//   loopback port, a token, no browser).
// - `npm test` is the suite this test is part of (`.ci/run` runs it); running it here would
//   recurse. The test checks instead that `.ci/run` runs exactly that README line.
// Any `-o FILE` a command names must exist afterwards and be non-empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The commands of README.md's ```sh blocks, one per non-empty line, comments kept (bash drops them). */
export function readmeShellCommands(markdown) {
  const commands = [];
  for (const block of markdown.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    for (const line of block[1].split('\n')) {
      const text = line.trim();
      if (text && !text.startsWith('#')) commands.push(text);
    }
  }
  return commands;
}

/** The command without its trailing comment. */
const bare = (command) => command.replace(/\s+#.*$/, '').trim();

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function run(command, cwd, env, timeoutMs) {
  const result = spawnSync('bash', ['-c', command], { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  return { code: result.status, signal: result.signal, out: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

const tail = (text, n = 40) => text.split('\n').slice(-n).join('\n');

async function waitFor(check, timeoutMs, what, alive) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    if (alive && !alive()) throw new Error(`${what}: the process exited first`);
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (${last.message})` : ''}`);
}

/**
 * Sends one execute_request over a Jupyter server's kernel WebSocket and resolves to the
 * execute_result's text/plain. Node 20's WebSocket is behind a flag, so a child Node runs it.
 */
function executeOverWebSocket(url, code) {
  const script = `
    const ws = new WebSocket(process.argv[1]);
    const id = 'readme-' + Date.now();
    const fail = (why) => { console.error(why); process.exit(1); };
    setTimeout(() => fail('no execute_result within 60 s'), 60000).unref();
    ws.onerror = (e) => fail('websocket error: ' + (e.message || e.type));
    ws.onopen = () => ws.send(JSON.stringify({
      channel: 'shell', parent_header: {}, metadata: {}, buffers: [],
      header: { msg_id: id, msg_type: 'execute_request', username: 'readme', session: id, date: new Date().toISOString(), version: '5.3' },
      content: { code: process.argv[2], silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
    }));
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.parent_header?.msg_id !== id) return;
      if (msg.msg_type === 'error') fail('error: ' + msg.content.ename + ': ' + msg.content.evalue);
      if (msg.msg_type === 'execute_result') { process.stdout.write(msg.content.data['text/plain']); process.exit(0); }
    };`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '-e', script, url, code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (status) => (status === 0 ? resolve(out) : reject(new Error(`executing over the kernel WebSocket: ${err.trim()}`))));
  });
}

/** Starts `npm run lab` as written, checks the server over its API, stops it. */
async function checkLab(command, cwd, env) {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-readme-jupyter-'));
  fs.writeFileSync(path.join(configDir, 'jupyter_server_config.json'), JSON.stringify({
    ServerApp: { ip: '127.0.0.1', port, port_retries: 0, open_browser: false },
    IdentityProvider: { token },
  }));
  const log = path.join(configDir, 'lab.log');
  const out = fs.openSync(log, 'w');
  const child = spawn('bash', ['-c', command], { cwd, env: { ...env, JUPYTER_CONFIG_DIR: configDir }, detached: true, stdio: ['ignore', out, out] });
  let exited = false;
  const done = new Promise((resolve) => child.on('exit', (code, signal) => { exited = true; resolve({ code, signal }); }));
  const base = `http://127.0.0.1:${port}`;
  const headers = { Authorization: `token ${token}`, 'Content-Type': 'application/json' };
  const api = async (method, route, body) => {
    const response = await fetch(`${base}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route}: HTTP ${response.status} ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : undefined;
  };
  try {
    // npm ci, build, the venv, the native build and the extension come first: minutes on a fresh clone.
    await waitFor(() => api('GET', '/api/status'), 30 * 60_000, `${command}: JupyterLab answering on port ${port}`, () => !exited);
    const lab = await fetch(`${base}/lab?token=${token}`);
    assert.equal(lab.status, 200, 'GET /lab serves JupyterLab');
    const specs = await api('GET', '/api/kernelspecs');
    assert.equal(specs.default, 'hyperlab', 'new notebooks default to the HyperLab kernel');
    assert.equal(specs.kernelspecs.hyperlab?.spec?.display_name, 'TypeScript (HyperLab)');
    // A new notebook as JupyterLab makes it when no kernel is chosen: the server's default.
    const session = await api('POST', '/api/sessions', { path: 'readme-check.ipynb', name: 'readme-check.ipynb', type: 'notebook', kernel: {} });
    try {
      assert.equal(session.kernel.name, 'hyperlab');
      // A TypeScript cell through the server's kernel WebSocket, as JupyterLab sends it.
      const result = await executeOverWebSocket(`ws://127.0.0.1:${port}/api/kernels/${session.kernel.id}/channels?token=${token}`, 'const answer: number = 6 * 7;\nanswer');
      assert.equal(result, '42');
    } finally {
      await api('DELETE', `/api/sessions/${session.id}`);
    }
    const extensions = fs.readFileSync(log, 'utf8');
    assert.doesNotMatch(extensions, /Traceback \(most recent call last\)/, 'the server log has no Python traceback');
  } catch (error) {
    error.message += `\n--- ${command} (last lines of its log) ---\n${tail(fs.readFileSync(log, 'utf8'))}`;
    throw error;
  } finally {
    if (!exited) {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 20_000);
      await done;
      clearTimeout(timer);
    }
    fs.closeSync(out);
    fs.rmSync(configDir, { recursive: true, force: true });
  }
}

test('README.md: its sh blocks are found', () => {
  const commands = readmeShellCommands(fs.readFileSync(path.join(root, 'README.md'), 'utf8')).map(bare);
  assert.ok(commands.includes('npm run lab'), 'the README shows the setup command');
  assert.ok(commands.includes('npm test'), 'the README shows the test command');
  assert.ok(commands.some((c) => /\bhyperlab verify\b/.test(c)), 'the README shows hyperlab verify');
  for (const c of commands) assert.doesNotMatch(c, /^npx (?!--no )/, `"${c}" could fetch a package from the registry: use npx --no`);
});

test("'.ci/run' runs the README's test command", () => {
  const lines = fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.equal(lines.at(-1), 'npm test');
});

test("README.md's shell commands work as written from a fresh clone", { timeout: 60 * 60_000 }, async (t) => {
  const status = spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).stdout.trim();
  if (status) t.diagnostic(`uncommitted changes are not in the clone (it is of HEAD):\n${status}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-readme-'));
  const clone = path.join(work, 'hyperlab');
  try {
    const cloned = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', root, clone], { encoding: 'utf8' });
    assert.equal(cloned.status, 0, cloned.stderr);
    const readme = fs.readFileSync(path.join(clone, 'README.md'), 'utf8');
    const env = { ...process.env, JUPYTER_DATA_DIR: path.join(work, 'jupyter-data') };
    // Not inherited from the npm test that runs this file: the clone is a new user's shell.
    for (const key of Object.keys(env)) if (/^(npm_|INIT_CWD$|VIRTUAL_ENV$|HYPERLAB_)/.test(key)) delete env[key];
    env.PATH = (process.env.PATH ?? '').split(path.delimiter).filter((p) => !p.includes(`${path.sep}node_modules${path.sep}.bin`) && !p.includes('node-gyp-bin')).join(path.delimiter);
    for (const command of readmeShellCommands(readme)) {
      const plain = bare(command);
      if (plain === 'npm test') continue; // this very suite; see the test of .ci/run above
      await t.test(plain, { timeout: 40 * 60_000 }, async () => {
        if (plain.startsWith('npm run lab')) {
          await checkLab(command, clone, env);
          return;
        }
        const result = run(command, clone, env, 20 * 60_000);
        assert.equal(result.code, 0, `exit ${result.code ?? result.signal}:\n${tail(result.out)}`);
        for (const match of plain.matchAll(/(?:^|\s)-o\s+(\S+)/g)) {
          const file = path.join(clone, match[1]);
          assert.ok(fs.existsSync(file) && fs.statSync(file).size > 0, `${match[1]} was written`);
        }
      });
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

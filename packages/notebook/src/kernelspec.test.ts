import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KernelSpecError, findKernelSpec, jupyterDataDirs, listKernelSpecs, readKernelSpec } from './kernelspec.js';
import type { PythonLookup } from './python.js';
import { tmpDir } from './testing.js';

const noPython: PythonLookup = { found: false, reason: 'test' };
const python = (prefix: string): PythonLookup => ({ found: true, info: { python: 'p', source: 'test', executable: 'p', prefix, nbformatDir: null, nbformatVersion: null } });

function spec(dataDir: string, name: string, json: Record<string, unknown>): string {
  const dir = path.join(dataDir, 'kernels', name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify(json));
  return dir;
}

test('jupyterDataDirs: JUPYTER_PATH, user, environment, system — as jupyter_core orders them', () => {
  const env = { JUPYTER_PATH: ['/a/', '/b'].join(path.delimiter), JUPYTER_DATA_DIR: '/user', VIRTUAL_ENV: '/venv' };
  assert.deepEqual(jupyterDataDirs(env, python('/py')), ['/a', '/b', '/user', '/venv/share/jupyter', '/py/share/jupyter', '/usr/local/share/jupyter', '/usr/share/jupyter']);
  assert.deepEqual(jupyterDataDirs({ ...env, JUPYTER_PREFER_ENV_PATH: '1' }, python('/venv')), ['/a', '/b', '/venv/share/jupyter', '/user', '/usr/local/share/jupyter', '/usr/share/jupyter']);
  assert.deepEqual(jupyterDataDirs({ XDG_DATA_HOME: '/xdg' }, noPython).slice(0, 1), ['/xdg/jupyter']);
});

test('findKernelSpec: the first folder wins, names compare case-insensitively, {resource_dir} and $VARs are filled in', () => {
  const first = tmpDir();
  const second = tmpDir();
  const dir = spec(first, 'MyKernel', { argv: ['node', '{resource_dir}/k.js', '-f', '{connection_file}'], display_name: 'Mine', language: 'typescript', interrupt_mode: 'message', env: { A: '${HOME_X}/a', B: '$MISSING_X' } });
  spec(second, 'mykernel', { argv: ['other'], display_name: 'Shadowed' });
  const env = { JUPYTER_PATH: [first, second].join(path.delimiter), JUPYTER_DATA_DIR: tmpDir(), HOME_X: '/home/x' };
  const found = findKernelSpec('mykernel', env, noPython);
  assert.deepEqual(found, {
    name: 'MyKernel', dir, file: path.join(dir, 'kernel.json'), argv: ['node', `${dir}/k.js`, '-f', '{connection_file}'],
    displayName: 'Mine', language: 'typescript', interruptMode: 'message', env: { A: '/home/x/a', B: '$MISSING_X' },
  });
  assert.deepEqual([...listKernelSpecs([first, second]).keys()], ['mykernel']);
});

test('findKernelSpec: a missing kernel lists the folders searched and the kernels found', () => {
  const data = tmpDir();
  spec(data, 'python3', { argv: ['python3'], display_name: 'Python 3' });
  const user = tmpDir();
  assert.throws(() => findKernelSpec('hyperlab', { JUPYTER_PATH: data, JUPYTER_DATA_DIR: user }, noPython), (e: unknown) => {
    assert.ok(e instanceof KernelSpecError);
    assert.deepEqual(e.searched.slice(0, 2), [path.join(data, 'kernels'), path.join(user, 'kernels')]);
    assert.equal(e.found.get('python3'), path.join(data, 'kernels', 'python3'));
    assert.ok(e.message.startsWith(`no kernelspec named "hyperlab"\n  searched:\n    ${path.join(data, 'kernels')}\n    ${path.join(user, 'kernels')}\n`), e.message);
    assert.match(e.message, /kernels found:\n {4}python3 {2}\S+python3\n/);
    return true;
  });
});

test('readKernelSpec: unreadable JSON or a bad argv names the kernel.json', () => {
  const data = tmpDir();
  const bad = spec(data, 'bad', { argv: [] });
  assert.throws(() => readKernelSpec(bad, {}, noPython), new RegExp(`kernelspec ${path.join(bad, 'kernel.json')}: "argv" must be a non-empty array of strings`));
  fs.writeFileSync(path.join(bad, 'kernel.json'), '{');
  assert.throws(() => readKernelSpec(bad, {}, noPython), /cannot read/);
});

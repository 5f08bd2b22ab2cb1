/**
 * A real JupyterLab server from the project's venv, isolated from the user's Jupyter settings: a
 * temp root dir holding copies of the notebooks under test, temp config/runtime/settings/workspace
 * and IPython dirs, and the venv's data dirs (where the labextension and the `hyperlab` kernelspec
 * live). Nothing is fetched from the network: update checks, news and the PyPI extension manager are
 * off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@hyperlab/kernel';

/** The repository root (this file is compiled to packages/jupyterlab/lib-test/ui-tests/). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

export interface LabServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  baseUrl: string;
  token: string;
  /** The server's root dir (copies of the notebooks). */
  rootDir: string;
  /** Everything the server (and its kernels) wrote to stdout/stderr. */
  logFile: string;
  /** The URL of JupyterLab, authenticated with the token. */
  labUrl(path?: string): string;
  /** GETs a server API path (e.g. `/api/contents/x.ipynb`) with the token. */
  api(sub: string): Promise<Response>;
  /** Shuts the server down (gracefully, then by signal); safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Repository-relative notebooks copied into the root dir (by base name). */
  notebooks: string[];
  /** Files written into the root dir: name → content (e.g. a notebook the test makes). */
  files?: Record<string, string>;
  /** Where temp dirs go (a fresh dir under the OS temp dir by default). */
  workDir?: string;
  /** How long to wait for /api/status (ms). */
  timeoutMs?: number;
}


/** The environment of the server: the caller's, minus anything that would leak user settings in. */
function serverEnv(dirs: Record<'config' | 'runtime' | 'data' | 'settings' | 'workspaces' | 'ipython' | 'xdg', string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(JUPYTER|JUPYTERLAB|JPY|IPYTHON|HYPERLAB)_/.test(name) || name === 'PYTHONPATH' || name === 'PYTHONHOME') delete env[name];
  }
  const venv = path.join(REPO_ROOT, '.venv');
  return {
    ...env,
    VIRTUAL_ENV: venv,
    PATH: `${path.join(venv, 'bin')}${path.delimiter}${env.PATH ?? ''}`,
    JUPYTER_CONFIG_DIR: dirs.config,
    JUPYTER_RUNTIME_DIR: dirs.runtime,
    // The user-level data dir; the venv's share/jupyter (sys.prefix) stays on the data path.
    JUPYTER_DATA_DIR: dirs.data,
    JUPYTER_PLATFORM_DIRS: '0',
    JUPYTERLAB_SETTINGS_DIR: dirs.settings,
    JUPYTERLAB_WORKSPACES_DIR: dirs.workspaces,
    IPYTHONDIR: dirs.ipython,
    XDG_DATA_HOME: path.join(dirs.xdg, 'data'),
    XDG_CONFIG_HOME: path.join(dirs.xdg, 'config'),
    XDG_CACHE_HOME: path.join(dirs.xdg, 'cache'),
    HYPERLAB_HISTORY_FILE: path.join(dirs.xdg, 'hyperlab-history.jsonl'),
    PYTHONNOUSERSITE: '1',
    PYTHONUNBUFFERED: '1',
  };
}

/** User settings that keep the UI quiet and offline (no news toast, no update check). */
function writeSettings(settingsDir: string): void {
  const dir = path.join(settingsDir, '@jupyterlab', 'apputils-extension');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'notification.jupyterlab-settings'), JSON.stringify({ fetchNews: 'false', checkForUpdates: false }));
}

async function waitForStatus(server: { baseUrl: string; token: string }, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`jupyter lab exited (${child.exitCode ?? child.signalCode}) before serving /api/status:\n${log()}`);
    }
    try {
      const response = await fetch(`${server.baseUrl}/api/status`, { headers: { Authorization: `token ${server.token}` }, signal: AbortSignal.timeout(5000) });
      if (response.ok) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = String(error);
    }
    await sleep(250);
  }
  throw new Error(`jupyter lab did not answer /api/status within ${timeoutMs} ms (${lastError}):\n${log()}`);
}

/** Starts `jupyter lab` from .venv and resolves once /api/status answers. */
export async function startLab(options: StartOptions): Promise<LabServer> {
  const jupyter = path.join(REPO_ROOT, '.venv', 'bin', 'jupyter');
  if (!existsSync(jupyter)) throw new Error(`${jupyter} is missing: run scripts/setup-venv.sh (npm test does) first`);
  const work = options.workDir ?? mkdtempSync(path.join(tmpdir(), 'hyperlab-lab-'));
  const dir = (name: string) => {
    const full = path.join(work, name);
    mkdirSync(full, { recursive: true });
    return full;
  };
  const dirs = {
    root: dir('root'),
    config: dir('jupyter-config'),
    runtime: dir('jupyter-runtime'),
    data: dir('jupyter-data'),
    settings: dir('lab-settings'),
    workspaces: dir('lab-workspaces'),
    ipython: dir('ipython'),
    xdg: dir('xdg'),
  };
  writeSettings(dirs.settings);
  for (const notebook of options.notebooks) copyFileSync(path.join(REPO_ROOT, notebook), path.join(dirs.root, path.basename(notebook)));
  for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(path.join(dirs.root, name), content);

  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const logFile = path.join(work, 'server.log');
  const logStream = createWriteStream(logFile);
  let logTail = '';
  const args = [
    'lab',
    '--no-browser',
    '--allow-root',
    '--ServerApp.ip=127.0.0.1',
    `--ServerApp.port=${port}`,
    '--ServerApp.port_retries=0',
    `--ServerApp.token=${token}`,
    `--ServerApp.root_dir=${dirs.root}`,
    '--LabApp.expose_app_in_browser=True',
    '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
    '--LabApp.news_url=None',
    '--LabApp.extension_manager=readonly',
  ];
  const child = spawn(jupyter, args, { cwd: dirs.root, env: serverEnv(dirs), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const onData = (chunk: Buffer) => {
    logStream.write(chunk);
    logTail = (logTail + chunk.toString()).slice(-20000);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If this process ends without stop() (a cancelled run, Ctrl-C), take the server down with it:
  // on SIGTERM jupyter shuts its kernels down (they run in sessions of their own) and exits.
  let orphanGuard = true;
  const killOnExit = () => {
    if (!orphanGuard) return;
    orphanGuard = false;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  const exitCodes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  const onSignal = (signal: NodeJS.Signals) => {
    killOnExit();
    process.exit(exitCodes[signal] ?? 1);
  };
  process.once('exit', killOnExit);
  for (const signal of Object.keys(exitCodes)) process.once(signal, onSignal);

  const baseUrl = `http://127.0.0.1:${port}`;
  let stopped = false;
  const server: LabServer = {
    baseUrl,
    token,
    rootDir: dirs.root,
    logFile,
    labUrl: (sub = '/lab') => `${baseUrl}${sub}${sub.includes('?') ? '&' : '?'}token=${token}`,
    api: (sub) => fetch(`${baseUrl}${sub}`, { headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(30_000) }),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        // Graceful: the server shuts its kernels down too.
        try {
          await fetch(`${baseUrl}/api/shutdown`, { method: 'POST', headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(5000) });
        } catch {
          /* fall through to signals */
        }
        const timeout = new AbortController();
        await Promise.race([exited, sleep(10_000, undefined, { signal: timeout.signal }).catch(() => undefined)]);
        timeout.abort();
      }
      // Whatever is left of the process group (the server, kernels it started): TERM, then KILL.
      const pid = child.pid!;
      const groupAlive = () => {
        try {
          process.kill(-pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
        if (!groupAlive()) break;
        process.kill(-pid, signal);
        for (let waited = 0; waited < 5000 && groupAlive(); waited += 100) await sleep(100);
      }
      orphanGuard = false;
      process.off('exit', killOnExit);
      for (const signal of Object.keys(exitCodes)) process.off(signal, onSignal);
      await new Promise<void>((resolve) => logStream.end(resolve));
    },
  };
  try {
    await waitForStatus(server, child, options.timeoutMs ?? 90_000, () => logTail);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/**
 * Monaco, loaded on first use (the config diff): the editor core, the diff editor, codicons and
 * YAML highlighting go into their own webpack chunks. monaco-editor 0.57 publishes its ESM
 * modules through `exports` (`monaco-editor/<path>` → `esm/vs/<path>.js`); the modules import
 * their own CSS, which JupyterLab's webpack config (style-loader + css-loader, fonts as assets)
 * bundles. The editor worker is bundled by webpack 5's `new Worker(new URL(…, import.meta.url))`
 * pattern, so the diff runs off the main thread with no network access.
 */
import type * as MonacoApi from 'monaco-editor/editor/editor.api';

/** The Monaco API. */
export type Monaco = typeof MonacoApi;

let loading: Promise<Monaco> | undefined;

/** Points Monaco at the bundled editor worker (unless the page already configured Monaco). */
function configureWorker(): void {
  const scope = self as typeof self & { MonacoEnvironment?: MonacoApi.Environment };
  scope.MonacoEnvironment ??= {
    getWorker: () => new Worker(new URL('monaco-editor/editor/editor.worker', import.meta.url)),
  };
}

/** Monaco with the diff editor and YAML (the same promise on every call). */
export function loadMonaco(): Promise<Monaco> {
  loading ??= (async () => {
    configureWorker();
    const monaco = await import(/* webpackChunkName: "monaco" */ 'monaco-editor/editor/editor.api');
    await Promise.all([
      import(/* webpackChunkName: "monaco" */ 'monaco-editor/features/diffEditor/register'),
      import(/* webpackChunkName: "monaco" */ 'monaco-editor/features/codicon/register'),
      import(/* webpackChunkName: "monaco" */ 'monaco-editor/languages/definitions/yaml/register'),
    ]);
    return monaco;
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}

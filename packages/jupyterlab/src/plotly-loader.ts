/**
 * plotly.js, loaded on first use: webpack puts the dynamic import in its own chunk, so JupyterLab
 * loads the ~4.5 MB bundle only when a notebook shows a figure.
 */

/** The parts of plotly.js the extension calls. */
export interface PlotlyApi {
  newPlot(el: HTMLElement, data: unknown[], layout?: object, config?: object): Promise<HTMLElement>;
  react(el: HTMLElement, data: unknown[], layout?: object, config?: object): Promise<HTMLElement>;
  purge(el: HTMLElement): void;
  toImage(el: HTMLElement, options: { format: 'png' | 'svg'; width?: number; height?: number }): Promise<string>;
  Plots: { resize(el: HTMLElement): void };
}

let loading: Promise<PlotlyApi> | undefined;

/** plotly.js (the same promise on every call). */
export function loadPlotly(): Promise<PlotlyApi> {
  loading ??= import(/* webpackChunkName: "plotly" */ 'plotly.js-dist-min').then((module) => ((module as { default?: PlotlyApi }).default ?? module) as PlotlyApi);
  return loading;
}

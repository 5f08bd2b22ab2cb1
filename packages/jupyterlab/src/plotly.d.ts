/** plotly.js-dist-min ships no types; the extension uses the subset in `plotly-loader.ts`. */
declare module 'plotly.js-dist-min';

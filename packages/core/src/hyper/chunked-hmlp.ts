/**
 * The chunked MLP hypernetwork (hypnettorch's `ChunkedHMLP`; von Oswald et al. 2020, ICLR 2020,
 * arXiv:1906.00695, section 3 "chunking"): the output layer emits `chunkSize` values per call;
 * ceil(numOutputs / chunkSize) learned chunk embeddings are concatenated to the input (after the
 * conditional input), and the chunks are concatenated and cut to the target's parameter count, so
 * the hypernetwork can be smaller than its target. See `hypernet.ts` for the params and init.
 */
import { hypernetwork, type HypernetArgs, type Hypernetwork } from './hypernet.js';

/** Arguments of {@link chunkedHmlp}. */
export interface ChunkedHmlpArgs extends HypernetArgs {
  /** Values the output layer emits per chunk. */
  chunkSize: number;
  /** Width of each learned chunk embedding. Default 8 (hypnettorch's `chunk_emb_size`). */
  chunkEmbSize?: number;
}

/** A chunked hypernetwork for `args.target`. */
export function chunkedHmlp(args: ChunkedHmlpArgs): Hypernetwork {
  if (args.chunkSize === undefined) throw new Error('chunkedHmlp: chunkSize is required');
  return hypernetwork({ ...args, kind: 'chunked-hmlp', owner: 'chunkedHmlp', chunkEmbSize: args.chunkEmbSize ?? 8 });
}

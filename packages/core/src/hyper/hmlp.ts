/**
 * The full MLP hypernetwork (hypnettorch's `HMLP`; von Oswald et al. 2020, "Continual learning
 * with hypernetworks", ICLR 2020, arXiv:1906.00695): one call emits every parameter of the target.
 * See `hypernet.ts` for the params, the init (hyperfan, Chang et al. 2020) and MIP.
 */
import { hypernetwork, type HypernetArgs, type Hypernetwork } from './hypernet.js';

/** A full hypernetwork for `args.target` (defaults: condInSize 8, layers [100, 100], relu, one task embedding). */
export function hmlp(args: HypernetArgs): Hypernetwork {
  return hypernetwork({ ...args, kind: 'hmlp', owner: 'hmlp', chunkEmbSize: 0 });
}

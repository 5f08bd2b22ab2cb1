/** Strategy names → factories. */
import type { StrategyFactory } from '../strategy.js';
import type { StrategyName } from '../strategy-config.js';
import { naiveStrategy } from './naive.js';
import { jointStrategy } from './joint.js';
import { cumulativeStrategy } from './cumulative.js';
import { ewcStrategy } from './ewc.js';
import { siStrategy } from './si.js';
import { masStrategy } from './mas.js';
import { lwfStrategy } from './lwf.js';
import { replayStrategy } from './replay.js';
import { agemStrategy } from './agem.js';
import { gdumbStrategy } from './gdumb.js';
import { generativeReplayStrategy } from './generative-replay.js';
import { adaptersStrategy } from './adapters.js';
import { hnetStrategy } from './hnet.js';

/** The factory of each strategy. */
export const STRATEGY_FACTORIES: Readonly<Record<StrategyName, StrategyFactory>> = {
  naive: naiveStrategy,
  joint: jointStrategy,
  cumulative: cumulativeStrategy,
  ewc: ewcStrategy,
  'online-ewc': ewcStrategy,
  si: siStrategy,
  mas: masStrategy,
  lwf: lwfStrategy,
  replay: replayStrategy,
  agem: agemStrategy,
  gdumb: gdumbStrategy,
  'generative-replay': generativeReplayStrategy,
  adapters: adaptersStrategy,
  hnet: hnetStrategy,
};

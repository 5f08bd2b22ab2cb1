/**
 * Parameter-efficient fine-tuning: adapters with Hugging Face PEFT's vocabulary and file format.
 * One file per method (`lora.ts`, `dora.ts`, `vera.ts`, `adalora.ts`, `randlora.ts`, `nola.ts`, `flora.ts`, `mtlora.ts`, `increlora.ts`, `triadaptlora.ts` (ranks grown during training; shared parts in `rank-growth.ts`, `rank-importance.ts`), `ia3.ts`, `bitfit.ts`, `bottleneck.ts`,
 * `mam-adapter.ts` (scaled parallel adapter, MAM), `prompt-tuning.ts`, `prefix-tuning.ts`, `corda.ts` (CorDA's LoRA init), and the
 * whole-model methods `hft.ts`, `sparse-ft.ts`, `spiel.ts`, `atlas.ts`, `intrinsic/` (intrinsic-dimension subspaces, SAID, d_int90); combining LoRA adapters in `weighted.ts`), the common verbs in
 * `framework.ts`, PEFT's directory layout in `save.ts`.
 */
export * from './config.js';
export { targetMatcher } from './targets.js';
export { layerInfo, type AdapterInstance, type AdapterMethod, type ExpandedTarget, type InitContext, type LayerInfo } from './method.js';
export { isAdapterLayer, type AdapterLayer, type ActivationState } from './layer.js';
export { registerAdapterMethod, getAdapterMethod, adapterMethodNames, methodOfPeftType } from './registry.js';
export * from './framework.js';
export * from './training-hooks.js';
export * from './report.js';
export { truncatedSvd, type TruncatedSvd } from './svd.js';
export { lora, loraConfig, loraScaling, registerLoraInit, type LoraConfig, type LoraConfigInput, type LoraCordaConfig, type LoraInit, type LoraInitializer } from './lora.js';
export { addCordaAdapter, collectCovariances, cordaEigens, invertMatrix, preprocessCorda, type CordaEigens, type LayerCovariance } from './corda.js';
export { dora, doraConfig, type DoraConfig } from './dora.js';
export { vera, veraConfig, type VeraConfig, type VeraConfigInput } from './vera.js';
export {
  adalora,
  adaloraAllocator,
  adaloraBudget,
  adaloraConfig,
  adaloraPenalty,
  type AdaloraAllocator,
  type AdaloraConfig,
  type AdaloraConfigInput,
  type AdaloraRankPattern,
} from './adalora.js';
export { randlora, randloraConfig, randloraNumBases, randloraTrainableCount, type RandloraConfig, type RandloraConfigInput } from './randlora.js';
export { nola, nolaConfig, type NolaConfig, type NolaConfigInput } from './nola.js';
export { flora, floraConfig, floraDelta, floraModes, floraRanks, floraTrainableCount, type FloraConfig, type FloraConfigInput } from './flora.js';
export { mtlora, mtloraConfig, mtloraTaskParams, mtloraTaskRank, mtloraTrainableCount, setActiveTask, activeTask, type MtloraConfig, type MtloraConfigInput } from './mtlora.js';
export { increlora, increloraConfig, increloraGrowth, type IncreloraConfig, type IncreloraConfigInput, type IncreloraGrowth } from './increlora.js';
export { triadaptlora, triadaptloraConfig, triadaptGrowth, triadaptThreshold, triadaptActiveParams, type TriadaptloraConfig, type TriadaptloraConfigInput, type TriadaptGrowth, type ThresholdSchedule } from './triadaptlora.js';
export { ia3, ia3Config, type Ia3Config, type Ia3ConfigInput } from './ia3.js';
export * from './bitfit.js';
export { bottleneck, bottleneckConfig, bottleneckWidth, type BottleneckConfig, type BottleneckConfigInput, type BottleneckPlacement } from './bottleneck.js';
export {
  addMamAdapter,
  loadMamAdapter,
  mamAdapterConfig,
  parallelAdapter,
  parallelAdapterConfig,
  saveMamAdapter,
  MAM_PARALLEL_DIR,
  MAM_PREFIX_DIR,
  type MamAdapterConfig,
  type MamAdapterConfigInput,
  type MamAdapterOptions,
  type MamAdapterResult,
  type ParallelAdapterConfig,
  type ParallelAdapterConfigInput,
} from './mam-adapter.js';
export * from './prompt-learning.js';
export { addPromptTuning, loadPromptTuning, promptTuningConfig, type PromptTuningConfig, type PromptTuningConfigInput, type PromptTuningOptions } from './prompt-tuning.js';
export { addPrefixTuning, loadPrefixTuning, prefixTuningConfig, type PrefixTuningConfig, type PrefixTuningConfigInput, type PrefixTuningOptions } from './prefix-tuning.js';
export { addWeightedAdapter, type WeightedCombination, type WeightedAdapterOptions } from './weighted.js';
export { hft, hftHooks, hftRoundSelection, hftSchema, hftUnits, chooseCategoryMembers, type HftConfig, type HftHooks, type HftHooksOptions, type HftUnit } from './hft.js';
export { sparseFt, sparseFtHooks, sparseFtSchema, sparseSetup, sparseMaskHooks, randomIndices, largestMagnitudeIndices, changedEntries, type SparseFtConfig, type SparseTarget, type SparseMaskHooks } from './sparse-ft.js';
export { spiel, spielHooks, spielRevise, spielRate, spielSchema, type SpielConfig, type SpielHooks, type SpielOptions, type SpielRevision } from './spiel.js';
export { atlas, atlasSchema, addTaskVectorComposition, type AtlasConfig, type TaskVectorComposition, type TaskVectorCompositionOptions } from './atlas.js';
export * from './intrinsic/index.js';
export * from './save.js';

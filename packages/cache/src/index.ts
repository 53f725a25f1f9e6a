export { DEFAULT_CACHE_MAX_BYTES, parseCacheMax } from "./cache-size.js";
export { changedSince, type DirSnapshot, snapshotDir } from "./dir-snapshot.js";
export { type ElementSource, elementFileDigests } from "./element-files.js";
export { tryLock, unlock } from "./key-lock.js";
export {
  fetchMirrorIndexes,
  indexUrls,
  type MirrorIndex,
  type MirrorSource,
} from "./mirror-index.js";
export {
  CACHE_FORMAT,
  explainKeyChange,
  laterPhases,
  OUTPUT_STAGE,
  type StageKey,
  type StageKeyInput,
  stageKey,
} from "./stage-key.js";
export {
  type RestoreResult,
  type StageManifest,
  type StageSide,
  StageStore,
  type StageStoreOptions,
  type StoredOutputs,
  type StoreOptions,
  type StoreResult,
} from "./stage-store.js";

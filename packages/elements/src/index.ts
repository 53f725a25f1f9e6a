export {
  ARCHITECTURES,
  type Architecture,
  architecture,
  debianArchName,
  findArchitecture,
  runsNatively,
} from "./architecture.js";
export { type ArgToElementsOptions, argToElements } from "./arg-to-elements.js";
export { blockDeviceConfigKey, selectBlockDeviceConfig } from "./block-device-config.js";
export {
  type CheckElementPackageOptions,
  checkElementPackage,
  type ElementPackageProblem,
  stockElementsBeside,
} from "./check-element-package.js";
export { closeNames, editDistance } from "./close-names.js";
export {
  type DiscoverOptions,
  discoverElements,
  type ElementCatalog,
  type ElementOverride,
  parseElementsPath,
} from "./discover-elements.js";
export {
  type DiscoveredElement,
  describeSource,
  type Element,
  type ElementFile,
  type ElementHook,
  type ElementSource,
  HOOK_PHASE_WHERE,
  HOOK_PHASES,
  type HookPhase,
} from "./element.js";
export { parseElementListFile, readElementListFile } from "./element-list-file.js";
export { assertElementName, isElementName } from "./element-name.js";
export {
  type ElementPackage,
  type ElementPackageManifest,
  elementPackageManifestSchema,
  findElementPackages,
  readElementPackage,
  STOCK_ELEMENT_SCOPE,
} from "./element-packages.js";
export {
  type ElementWarning,
  ENVIRONMENT_FILE_NAME,
  RUN_PARTS_NAME,
} from "./hook-script-rules.js";
export {
  applyHookTree,
  type ElementTree,
  type ElementTreeEntry,
  type HookCopy,
  type HookTreePlan,
  planHookTree,
  planHookTreeFor,
  readElementTree,
} from "./hook-tree.js";
export {
  elementInfoEnvScript,
  type ImageElementVars,
  imageElementArrayFunction,
  imageElementVars,
  shellQuote,
} from "./image-element-env.js";
export {
  normalizePackageInstalls,
  PACKAGE_INSTALL_PHASES,
  PACKAGE_INSTALLS_FILES,
  type PackageInstallEntry,
  type PackageInstallPhase,
  type PackageInstallRule,
  type PackageInstalls,
  parsePackageInstalls,
  readPackageInstalls,
  type WhenCondition,
} from "./package-installs-file.js";
export {
  collectPackageInstalls,
  installTypeOf,
  type PackageInstallsEnv,
  type PackageInstallsPhaseLists,
  ruleApplies,
  type SquashedPackageInstalls,
  squashPackageInstalls,
} from "./package-installs-squash.js";
export {
  distroFamily,
  type MapPackagesOptions,
  mapPackageNames,
  type PkgMap,
  parsePkgMap,
  pkgMapFor,
  pkgMapSchema,
  readPkgMap,
} from "./pkg-map.js";
export { readElement, readElementSummary } from "./read-element.js";
export { readmeSummary } from "./readme-summary.js";
export {
  type ElementRelations,
  OPERATING_SYSTEM,
  type ResolvedElements,
  type ResolvedImageElements,
  resolveElements,
  resolveImageElements,
} from "./resolve-elements.js";
export {
  type RetiredElement,
  retiredElement,
  retiredElementNames,
} from "./retired-elements.js";
export {
  mergeSvcMaps,
  parseSvcMap,
  readSvcMap,
  SVC_MAP_FILE,
  type SvcMap,
  svcMapSchema,
  svcMapServicesText,
} from "./svc-map.js";

import type { ElementWarning } from "./hook-script-rules.js";
import type { PackageInstalls } from "./package-installs-file.js";
import type { PkgMap } from "./pkg-map.js";

/** The hook folders of the build, in the order the builder runs them. */
export const HOOK_PHASES = [
  "root.d",
  "extra-data.d",
  "pre-install.d",
  "install.d",
  "post-install.d",
  "post-root.d",
  "block-device.d",
  "pre-finalise.d",
  "finalise.d",
  "cleanup.d",
] as const;
export type HookPhase = (typeof HOOK_PHASES)[number];

/**
 * Where each phase's hooks run (§2.2): inside the image's chroot or outside it, on the
 * host. Typed by HookPhase, so it cannot miss or add a phase.
 */
export const HOOK_PHASE_WHERE: Readonly<Record<HookPhase, "outside" | "chroot">> = {
  "root.d": "outside",
  "extra-data.d": "outside",
  "pre-install.d": "chroot",
  "install.d": "chroot",
  "post-install.d": "chroot",
  "post-root.d": "outside",
  "block-device.d": "outside",
  "pre-finalise.d": "outside",
  "finalise.d": "chroot",
  "cleanup.d": "outside",
};

/** Where an element was found. */
export type ElementSource =
  | { kind: "elements-path"; entry: string }
  | { kind: "package"; packageName: string; version: string; packageDir: string };

/** An element as discovery knows it: enough to resolve dependencies. */
export interface DiscoveredElement {
  name: string;
  /** Absolute, symlinks resolved. */
  dir: string;
  source: ElementSource;
  /** element-deps, in file order. */
  deps: string[];
  /** element-provides, in file order. */
  provides: string[];
}

export interface ElementFile {
  name: string;
  /** Absolute path of the file in the element. */
  file: string;
}

export interface ElementHook extends ElementFile {
  phase: string;
  executable: boolean;
}

/** Everything an element directory holds, read and checked. */
export interface Element extends DiscoveredElement {
  /** Files in each of the ten build-phase folders present, by name. */
  hooks: Record<string, ElementHook[]>;
  /** environment.d files, by name. */
  environment: ElementFile[];
  /** package-installs.json and/or .yaml. */
  packageInstalls: PackageInstalls[];
  pkgMap?: { file: string; map: PkgMap };
  /** block-device-default.yaml and block-device-<arch>.yaml, keyed `default` or the arch. */
  blockDeviceConfigs: Record<string, string>;
  staticDir?: string;
  binDir?: string;
  /** source-repository-* files. */
  sourceRepositories: ElementFile[];
  readme?: string;
  /** The first line of the README that says what the element does. */
  summary?: string;
  warnings: ElementWarning[];
}

/** `/path/to/dir` for an ELEMENTS_PATH element, `name@version` for a package. */
export function describeSource(element: Pick<DiscoveredElement, "dir" | "source">): string {
  return element.source.kind === "package"
    ? `${element.source.packageName}@${element.source.version}`
    : element.dir;
}

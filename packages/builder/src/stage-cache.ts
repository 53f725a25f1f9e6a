import { createHash } from "node:crypto";
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ElementSource,
  fetchMirrorIndexes,
  type MirrorIndex,
  OUTPUT_STAGE,
  parseCacheMax,
  type StageKey,
  StageStore,
  stageKey,
} from "@dib/cache";
import { HOOK_PHASES, type HookPhase } from "@dib/elements";
import { HOOK_LIBRARY_FOLDER } from "@dib/hook-library";
import type { Host } from "@dib/host";
import type { BuildOptions } from "./build-options.js";
import { type BuildVariables, phaseEnvironment } from "./hook-env.js";
import type { Workspace } from "./workspace.js";

/** The stage the cache keeps: the tree after the last chroot phase that installs packages. */
export const CACHED_STAGE: HookPhase = "post-install.d";
/** The hook phases the cached stage stands for, in order (`root` … `post-install`). */
const STAGE_PHASES = HOOK_PHASES.slice(0, HOOK_PHASES.indexOf(CACHED_STAGE) + 1).map((p) =>
  p.replace(/\.d$/, ""),
);

/**
 * Variables that say how the build is watched or where its outputs go, not what the
 * stage builds, plus the shell's own bookkeeping: they differ between two runs of the
 * same build and are left out of keys. DIB_ARGS is the command line (with `-x` and `-o`
 * in it); IMAGE_NAME and OUT_IMAGE_PATH are `-o`, which the finalise and output steps
 * use, after the stage. DIB_ENV lists the DIB_* variables the build started with, each
 * of which is keyed on its own; as one text it would change with DIB_DEBUG_TRACE.
 */
const NOT_KEYED = new Set([
  "DIB_DEBUG_TRACE",
  "DIB_ARGS",
  "DIB_ENV",
  "DIB_STAGE_CACHE",
  "DIB_IMAGE_CACHE_MAX",
  "IMAGE_NAME",
  "OUT_IMAGE_PATH",
  "_",
  "OLDPWD",
  "SHLVL",
  "TERM",
  "COLORTERM",
  "DISPLAY",
  "LS_COLORS",
  "INVOCATION_ID",
  "JOURNAL_STREAM",
  "XDG_SESSION_ID",
  "XDG_RUNTIME_DIR",
  "SSH_AUTH_SOCK",
  "SSH_AGENT_PID",
  "SSH_CLIENT",
  "SSH_CONNECTION",
  "SSH_TTY",
]);

/**
 * Elements whose hooks read the network outside the distribution mirror (a git HEAD, a
 * URL that moves): their result cannot be keyed by anything the build can see.
 */
const UNKEYABLE_ELEMENTS = ["source-repositories"];

/** Elements that bootstrap from a Debian-style mirror with dists/<release>{,-updates}. */
const DEBIAN_FAMILY = ["debootstrap", "debian-minimal", "debian", "ubuntu-minimal", "ubuntu"];

export type StageCachePlan =
  | {
      use: true;
      store: StageStore;
      key: StageKey;
      /** The finished outputs' key, or why they cannot be reused. */
      output: { key: StageKey } | { reason: string };
    }
  | { use: false; reason: string };

/**
 * The environment every stage hook sees, one value per variable (the phases' values
 * joined where they differ), with this build's own directory written as `<build>` so the
 * next build's key can match.
 */
function keyedVariables(
  options: BuildOptions,
  workspace: Workspace,
  variables: BuildVariables,
): Record<string, string> {
  const perPhase = STAGE_PHASES.map((p) => phaseEnvironment(options, workspace, variables, p));
  const names = new Set(perPhase.flatMap((env) => Object.keys(env)));
  const out: Record<string, string> = {};
  for (const name of [...names].sort()) {
    if (NOT_KEYED.has(name)) continue;
    const values = [...new Set(perPhase.map((env) => env[name] ?? ""))].map((v) =>
      v.split(workspace.dir).join("<build>"),
    );
    out[name] = values.join("\0");
  }
  return out;
}

/** Files larger than this are keyed by size and mtime instead of content. */
const HASHED_FILE_MAX = 1024 ** 3;

function fileDigest(path: string, size: number, mtimeMs: number): string {
  if (size > HASHED_FILE_MAX) return `size ${size} mtime ${mtimeMs}`;
  const hash = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) {
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/**
 * Host files the stage's variables name (DIB_APT_CONF, DIB_DEV_USER_AUTHORIZED_KEYS,
 * DIB_LOCAL_IMAGE …): a hook copies what is in them, so their content is keyed, not only
 * their path. Only absolute paths of regular files outside this build.
 */
export function namedFileDigests(
  variables: Readonly<Record<string, string>>,
  buildDir: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (!value.startsWith("/") || value.includes("\0") || value.includes(":")) continue;
    if (value === buildDir || value.startsWith(`${buildDir}/`) || value.startsWith("<build>")) {
      continue;
    }
    const s = statSync(value, { throwIfNoEntry: false });
    if (!s?.isFile()) continue;
    try {
      out[`file named by ${name}`] = fileDigest(value, s.size, s.mtimeMs);
    } catch {
      out[`file named by ${name}`] = "unreadable";
    }
  }
  return out;
}

/** Which mirror's index keys the stage, and for which suites. */
export function mirrorOf(
  env: Readonly<Record<string, string>>,
  elementNames: readonly string[],
  hostSources = "",
): { mirror: string; suites: string[]; security?: string } | { reason: string } {
  const debian = elementNames.some((n) => DEBIAN_FAMILY.includes(n));
  const release = env.DIB_RELEASE;
  // debian-minimal's own default: the variable, else the host's Debian mirror, else deb.debian.org
  const fromHost = (suffix: string) =>
    new RegExp(`https?://[^\\s\\]]+/${suffix}(?=/*(\\s|$))`, "m").exec(hostSources)?.[0];
  let mirror = env.DIB_DISTRIBUTION_MIRROR;
  if (!mirror && debian && elementNames.includes("debian-minimal")) {
    mirror =
      env.DIB_DEBIAN_DISTRIBUTION_MIRROR || fromHost("debian") || "http://deb.debian.org/debian";
  }
  if (!mirror) {
    return {
      reason:
        "no mirror to key the stage on: set DIB_DISTRIBUTION_MIRROR (the stage cache keys on its index)",
    };
  }
  if (!debian) return { mirror, suites: release ? [release] : [] };
  if (!release) return { reason: "DIB_RELEASE is not set: the mirror index cannot be chosen" };
  const suites = [release, `${release}-updates`];
  if (elementNames.includes("debian-minimal")) {
    return {
      mirror,
      suites,
      security:
        env.DIB_DEBIAN_SECURITY_MIRROR ||
        fromHost("debian-security") ||
        "http://deb.debian.org/debian-security",
    };
  }
  return { mirror, suites };
}

async function mirrorIndexes(
  env: Readonly<Record<string, string>>,
  elementNames: readonly string[],
): Promise<{ indexes: MirrorIndex[] } | { unavailable: string }> {
  const source = mirrorOf(env, elementNames, hostAptSources());
  if ("reason" in source) return { unavailable: source.reason };
  let main = await fetchMirrorIndexes({ mirror: source.mirror, suites: source.suites });
  // A flat repository (`deb URL ./`) has its index at its root.
  if ("unavailable" in main && source.suites.length === 1) {
    const flat = await fetchMirrorIndexes({ mirror: source.mirror, suites: [] });
    if ("indexes" in flat) main = flat;
  }
  if ("unavailable" in main || !source.security) return main;
  const release = env.DIB_RELEASE ?? "";
  const security = await fetchMirrorIndexes({
    mirror: source.security,
    suites: [`${release}-security`],
  });
  if ("unavailable" in security) return security;
  return { indexes: [...main.indexes, ...security.indexes] };
}

let ownVersion: string | undefined;
/** @dib/builder's version, from its package.json (one level above src/ and dist/). */
function builderVersion(): string {
  ownVersion ??= (
    JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    }
  ).version;
  return ownVersion;
}

let ownCode: string | undefined;
/**
 * A digest of dib's own code that a build runs: the `dist/` files (`src/` when dib runs
 * from its sources) of @dib/builder and of every @dib/* package it depends on, found the
 * way Node finds them; tests and source maps left out. The version alone does not change while dib is developed (every package is at
 * its release's version until the next), and a changed builder may build another image
 * from the same elements.
 */
export function dibCodeDigest(): string {
  if (ownCode !== undefined) return ownCode;
  const hash = createHash("sha256");
  const seen = new Set<string>();
  const packageRoot = (name: string, from: string): string | undefined => {
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules", name);
      if (statSync(join(candidate, "package.json"), { throwIfNoEntry: false })) {
        return realpathSync(candidate);
      }
      if (dirname(dir) === dir) return undefined;
    }
  };
  const walk = (dir: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (name === "__fixtures__" || /\.(test|integration\.test)\.[cm]?[jt]s$|\.map$/.test(name)) {
        continue;
      }
      const path = join(dir, name);
      const s = statSync(path, { throwIfNoEntry: false });
      if (s?.isDirectory()) walk(path, `${rel}/${name}`);
      else if (s?.isFile()) hash.update(`${rel}/${name}\0`).update(readFileSync(path)).update("\0");
    }
  };
  const visit = (root: string) => {
    if (seen.has(root)) return;
    seen.add(root);
    let pkg: { name?: string; version?: string; dependencies?: Record<string, string> };
    try {
      pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    } catch {
      // bundled into something else: this file is the code that runs
      hash.update(readFileSync(fileURLToPath(import.meta.url)));
      return;
    }
    hash.update(`${pkg.name}@${pkg.version}\0`);
    walk(join(root, folder), `${pkg.name}/${folder}`);
    for (const dep of Object.keys(pkg.dependencies ?? {}).sort()) {
      if (!dep.startsWith("@dib/")) continue;
      const depRoot = packageRoot(dep, root);
      if (depRoot) visit(depRoot);
    }
  };
  // this file's own folder says which one runs: src/ (the @dib/source condition) or dist/
  const folder = basename(dirname(fileURLToPath(import.meta.url))) === "src" ? "src" : "dist";
  visit(fileURLToPath(new URL("..", import.meta.url)));
  ownCode = hash.digest("hex");
  return ownCode;
}

/** The host's apt sources, which debian-minimal's default mirror is read from. */
function hostAptSources(): string {
  const files = ["/etc/apt/sources.list"];
  try {
    for (const name of readdirSync("/etc/apt/sources.list.d").sort()) {
      if (name.endsWith(".list") || name.endsWith(".sources")) {
        files.push(join("/etc/apt/sources.list.d", name));
      }
    }
  } catch {
    // no sources.list.d
  }
  return files
    .map((f) => {
      try {
        return readFileSync(f, "utf8");
      } catch {
        return "";
      }
    })
    .join("\n");
}

/**
 * Build options that say how the build is watched, where it works or where its outputs go,
 * not what they hold: left out of the output key. Every other option is keyed, so a new
 * one is keyed until it is listed here.
 */
const NOT_OUTPUT_SETTINGS = new Set([
  "imageName",
  "debugTrace",
  "imageCache",
  "lockfilesDir",
  "minTmpfsGb",
  "noTmpfs",
  "stageCache",
  "offline",
  "logfile",
  "elementsPath",
  "elementSearchFrom",
  "elementPackageDirs",
  "tmpDir",
  "overwriteOldImage",
  "showImageUsage",
  "showImageUsageFull",
  "breakpoints",
  "breakCmd",
  "breakOutsideTarget",
  "keepOnFailure",
  "cwd",
  // keyed as the hooks' variables
  "env",
  "dibArgs",
  "cliCommand",
]);

/** The options that shape the outputs (`-t`, sizes, qcow2 options …), as key settings. */
export function outputSettings(options: BuildOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(options).sort(([a], [b]) => a.localeCompare(b))) {
    if (NOT_OUTPUT_SETTINGS.has(name) || value === undefined) continue;
    out[name] = JSON.stringify(value);
  }
  // The image is named inside too (/etc/dib-manifests/dib-manifest-dpkg-NAME): its last
  // part is keyed, the folder it goes to is not.
  out["image name"] = JSON.stringify(basename(options.imageName));
  // DIB_BLOCK_DEVICE_CONFIG=file://PATH: the layout is in the file.
  const config = options.blockDeviceConfig;
  if (config?.startsWith("file://")) {
    const path = config.slice("file://".length);
    const s = statSync(path, { throwIfNoEntry: false });
    out["block-device config file"] = s?.isFile() ? fileDigest(path, s.size, s.mtimeMs) : "missing";
  }
  return out;
}

/** Why this build's outputs cannot be copied from an earlier build's, if they cannot. */
export function outputsNotReusable(options: BuildOptions): string | undefined {
  if (options.imageTypes.includes("docker")) {
    return "-t docker loads the image into the container engine; it is not a file to copy";
  }
  return undefined;
}

export interface StageCacheInput {
  host: Host;
  options: BuildOptions;
  workspace: Workspace;
  variables: BuildVariables;
  elements: readonly ElementSource[];
  /** Names a user asked to stop at (`break=`): they cannot stop in a restored stage. */
  breakpoints: readonly string[];
}

/**
 * Decides whether this build uses the stage cache and computes the stage's key. It never
 * runs a hook: the key is made from the element files, the hooks' environment, the
 * mirror's index fetched now, and dib's own version.
 */
export async function planStageCache(input: StageCacheInput): Promise<StageCachePlan> {
  const { options, workspace, variables } = input;
  if (options.stageCache === "bypass") return { use: false, reason: "--no-cache" };
  if (options.stageCache === "off") {
    return { use: false, reason: 'off (stageCache: "off"; the CLI: DIB_STAGE_CACHE=0)' };
  }
  if (input.breakpoints.length > 0) {
    return { use: false, reason: "breakpoints are set (break=)" };
  }
  if (options.offline) {
    return { use: false, reason: "--offline: the mirror index cannot be fetched to key the stage" };
  }
  const names = input.elements.map((e) => e.name);
  const unkeyable = names.filter((n) => UNKEYABLE_ELEMENTS.includes(n));
  if (unkeyable.length > 0) {
    return {
      use: false,
      reason: `${unkeyable.join(", ")} reads the network outside the mirror; its result cannot be keyed`,
    };
  }
  const env = options.env;
  const index = await mirrorIndexes(env, names);
  if ("unavailable" in index) return { use: false, reason: index.unavailable };
  const keyedVars = keyedVariables(options, workspace, variables);
  Object.assign(keyedVars, namedFileDigests(keyedVars, workspace.dir));
  if (!env.DIB_DISTRIBUTION_MIRROR) keyedVars["host apt sources"] = hostAptSources();
  const elements: ElementSource[] = [
    ...input.elements,
    // the hook library the hooks source through _LIB and the dib-run-parts that runs them
    { name: "(dib hook library)", dir: join(workspace.hooksDir, HOOK_LIBRARY_FOLDER) },
  ];
  const keyInput = {
    stage: CACHED_STAGE,
    elements,
    variables: keyedVars,
    release: env.DIB_RELEASE,
    arch: variables.arch,
    mirrorIndexes: index.indexes,
    installType: options.installType,
    installPackages: options.installPackages,
    toolVersion: `@dib/builder ${builderVersion()} code ${dibCodeDigest()}`,
  };
  const key = stageKey(keyInput);
  const store = new StageStore({
    cacheDir: options.imageCache,
    host: input.host,
    maxBytes: parseCacheMax(env.DIB_IMAGE_CACHE_MAX),
  });
  const whyNot = outputsNotReusable(options);
  const output =
    whyNot !== undefined
      ? { reason: whyNot }
      : {
          key: stageKey({
            ...keyInput,
            stage: OUTPUT_STAGE,
            settings: outputSettings(options),
          }),
        };
  return { use: true, store, key, output };
}

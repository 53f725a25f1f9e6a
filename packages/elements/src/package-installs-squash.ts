import { DibError } from "@dib/errors";
import { debianArchName } from "./architecture.js";
import {
  PACKAGE_INSTALL_PHASES,
  type PackageInstallPhase,
  type PackageInstallRule,
  type PackageInstalls,
} from "./package-installs-file.js";

/** The variables the squash reads: ARCH, DIB_DEFAULT_INSTALLTYPE, DIB_INSTALLTYPE_*, DIB_PYTHON_VERSION and any `when:` variable. */
export type PackageInstallsEnv = Readonly<Record<string, string | undefined>>;

/** `[package, element]` pairs per phase: DIB's /tmp/package-installs.json. */
export interface PackageInstallsPhaseLists {
  install: [string, string][];
  uninstall: [string, string][];
}
export type SquashedPackageInstalls = Partial<
  Record<PackageInstallPhase, PackageInstallsPhaseLists>
>;

/**
 * Squashes the package-installs of every element, in the order given, into one list per
 * phase and operation (DIB's package-installs-squash).
 */
export function squashPackageInstalls(
  elements: readonly { name: string; packageInstalls: readonly PackageInstalls[] }[],
  env: PackageInstallsEnv,
): SquashedPackageInstalls {
  let state: SquashedPackageInstalls = {};
  for (const element of elements) {
    for (const installs of element.packageInstalls) {
      state = collectPackageInstalls(state, element.name, installs, env);
    }
  }
  return state;
}

/**
 * Adds one element's package-installs to `state` and returns the new state (`state` is
 * not changed). Rules:
 * - a plain install cancels earlier uninstalls of the package in that phase;
 * - an uninstall of a package some element installs in the same phase is ignored, and a
 *   build-only one only adds the install (an install elsewhere wins over the removal);
 * - a rule whose filters (installtype, arch / not-arch, dib_python_version, when) do not
 *   hold has no effect at all. DIB applies the bookkeeping above before the filters, so a
 *   filtered-out install could still cancel another element's uninstall; we do not.
 */
export function collectPackageInstalls(
  state: SquashedPackageInstalls,
  element: string,
  installs: PackageInstalls,
  env: PackageInstallsEnv,
): SquashedPackageInstalls {
  const next = cloneState(state);
  for (const { name, rules } of installs.packages) {
    for (const rule of rules) {
      if (!ruleApplies(rule, element, env)) continue;
      const lists = next[rule.phase] ?? { install: [], uninstall: [] };
      next[rule.phase] = lists;
      let ops: ("install" | "uninstall")[];
      if (rule.uninstall || rule.buildOnly) {
        const installed =
          lists.install.some(([p]) => p === name) && !lists.uninstall.some(([p]) => p === name);
        if (installed) {
          if (!rule.buildOnly) continue;
          ops = ["install"];
        } else {
          ops = rule.uninstall ? ["uninstall"] : ["install", "uninstall"];
        }
      } else {
        lists.uninstall = lists.uninstall.filter(([p]) => p !== name);
        ops = ["install"];
      }
      for (const op of ops) lists[op].push([name, element]);
    }
  }
  return orderPhases(next);
}

/** Whether a rule applies to this build; filters are checked in DIB's order and stop at the first that fails. */
export function ruleApplies(
  rule: PackageInstallRule,
  element: string,
  env: PackageInstallsEnv,
): boolean {
  if (rule.installtype !== undefined && rule.installtype !== installTypeOf(element, env))
    return false;
  if (rule.arch !== undefined || rule.notArch !== undefined) {
    const arch = env.ARCH;
    if (arch === undefined || arch === "") {
      throw new DibError("DIB_PACKAGE_INSTALLS_NO_ARCH", "ARCH is not set", {
        file: rule.file,
        hint: `element '${element}' filters packages by architecture; set ARCH (e.g. amd64)`,
      });
    }
    // Names compared as architectures, not strings: `arch: aarch64` and ARCH=arm64 match
    // (DIB compares the strings, so an rpm-style list misses a Debian-style ARCH).
    const same = (name: string) => debianArchName(name) === debianArchName(arch);
    if (rule.arch !== undefined && !rule.arch.some(same)) return false;
    if (rule.notArch?.some(same)) return false;
  }
  if (rule.dibPythonVersion !== undefined && rule.dibPythonVersion !== env.DIB_PYTHON_VERSION) {
    return false;
  }
  for (const condition of rule.when) {
    const value = env[condition.variable];
    if (value === undefined) {
      throw new DibError(
        "DIB_PACKAGE_INSTALLS_WHEN_UNSET",
        `The variable <${condition.variable}> is not set`,
        {
          file: rule.file,
          hint: `element '${element}' has 'when: ${condition.text}'${rule.line ? ` (line ${rule.line})` : ""}; export ${condition.variable} (an element's environment.d usually sets it)`,
          details: { element, variable: condition.variable, line: rule.line },
        },
      );
    }
    if ((value === condition.value) !== (condition.op === "=")) return false;
  }
  return true;
}

/** DIB_INSTALLTYPE_<element, '-' → '_'>, else DIB_DEFAULT_INSTALLTYPE, else `source`. */
export function installTypeOf(element: string, env: PackageInstallsEnv): string {
  return (
    env[`DIB_INSTALLTYPE_${element.replace(/-/g, "_")}`] ?? env.DIB_DEFAULT_INSTALLTYPE ?? "source"
  );
}

function cloneState(state: SquashedPackageInstalls): SquashedPackageInstalls {
  const copy: SquashedPackageInstalls = {};
  for (const [phase, lists] of Object.entries(state) as [
    PackageInstallPhase,
    PackageInstallsPhaseLists,
  ][]) {
    copy[phase] = {
      install: lists.install.map(([p, e]) => [p, e]),
      uninstall: lists.uninstall.map(([p, e]) => [p, e]),
    };
  }
  return copy;
}

function orderPhases(state: SquashedPackageInstalls): SquashedPackageInstalls {
  const ordered: SquashedPackageInstalls = {};
  for (const phase of PACKAGE_INSTALL_PHASES) {
    const lists = state[phase];
    if (lists) ordered[phase] = lists;
  }
  return ordered;
}

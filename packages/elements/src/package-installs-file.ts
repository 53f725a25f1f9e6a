import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DibError } from "@dib/errors";
import { z } from "zod";
import { type DataFile, parseDataFile, schemaError } from "./data-file.js";

export const PACKAGE_INSTALL_PHASES = ["pre-install.d", "install.d", "post-install.d"] as const;
export type PackageInstallPhase = (typeof PACKAGE_INSTALL_PHASES)[number];

/** One `when:` condition: `VAR = value` or `VAR != value`. */
export interface WhenCondition {
  variable: string;
  op: "=" | "!=";
  /** Kept verbatim, trailing spaces included, as DIB compares it. */
  value: string;
  text: string;
}

/** One parameter set of a package: when, where and whether it is installed or removed. */
export interface PackageInstallRule {
  phase: PackageInstallPhase;
  uninstall: boolean;
  buildOnly: boolean;
  installtype?: "source" | "package";
  arch?: string[];
  notArch?: string[];
  dibPythonVersion?: string;
  when: WhenCondition[];
  /** Where the rule is written, for messages. */
  file?: string;
  line?: number;
}

export interface PackageInstallEntry {
  name: string;
  rules: PackageInstallRule[];
}

/** A parsed package-installs.yaml / .json. */
export interface PackageInstalls {
  file?: string;
  packages: PackageInstallEntry[];
}

export const PACKAGE_INSTALLS_FILES = ["package-installs.json", "package-installs.yaml"] as const;

const CODE = "DIB_PACKAGE_INSTALLS_INVALID";
const HINT =
  "package-installs maps each package name to nothing, a mapping of options (phase, uninstall, build-only, installtype, arch, not-arch, dib_python_version, when) or a list of such mappings";

const commaList = z.union([z.string(), z.array(z.string())]);
const paramsSchema = z
  .object({
    phase: z.enum(PACKAGE_INSTALL_PHASES).optional(),
    uninstall: z.unknown().optional(),
    "build-only": z.unknown().optional(),
    installtype: z.enum(["source", "package"]).optional(),
    arch: commaList.optional(),
    "not-arch": commaList.optional(),
    dib_python_version: z.union([z.string(), z.number()]).optional(),
    when: z.union([z.string(), z.array(z.string())]).optional(),
  })
  .strict();

const WHEN_LINE = /^(\w+)\s*(=|!=)\s*(.*)$/;

/** Parses the text of a package-installs file; errors name the file and line. */
export function parsePackageInstalls(text: string, file: string): PackageInstalls {
  const dataFile = parseDataFile(text, file, { code: CODE, hint: HINT });
  return normalizePackageInstalls(dataFile.data, dataFile);
}

/**
 * Checks and normalises already-parsed package-installs data (`{pkg: params}`), the form
 * DIB's squash code receives. `source` gives file and line numbers for messages.
 */
export function normalizePackageInstalls(data: unknown, source?: DataFile): PackageInstalls {
  const file = source?.file;
  const fail = (message: string, path: PropertyKey[]) => {
    const line = source?.lineOf(path);
    const where = file ? `${file}${line ? `:${line}` : ""}: ` : "";
    return new DibError(CODE, `${where}${message}`, { file, hint: HINT, details: { line } });
  };
  if (data === null || data === undefined) return { file, packages: [] };
  if (typeof data !== "object" || Array.isArray(data)) {
    throw fail("expected a mapping of package names", []);
  }
  const packages: PackageInstallEntry[] = [];
  for (const [name, value] of Object.entries(data as Record<string, unknown>)) {
    const list = value === null || value === "" ? [{}] : Array.isArray(value) ? value : [value];
    const rules = list.map((params, index) => {
      const path = Array.isArray(value) ? [name, index] : [name];
      if (params === null || typeof params !== "object" || Array.isArray(params)) {
        throw fail(
          `package '${name}': expected nothing, a mapping of options or a list of them`,
          path,
        );
      }
      const parsed = paramsSchema.safeParse(params);
      if (!parsed.success) {
        const error = source
          ? schemaError(source, parsed.error, CODE, HINT, path)
          : fail(
              `package '${name}': ${parsed.error.issues[0]?.message ?? "invalid options"}`,
              path,
            );
        throw error;
      }
      return toRule(
        params as Record<string, unknown>,
        parsed.data,
        (message) => fail(message, path),
        {
          file,
          line: source?.lineOf(path),
        },
      );
    });
    packages.push({ name, rules });
  }
  return { file, packages };
}

function toRule(
  raw: Record<string, unknown>,
  params: z.infer<typeof paramsSchema>,
  fail: (message: string) => DibError,
  where: { file: string | undefined; line: number | undefined },
): PackageInstallRule {
  if (params.arch !== undefined && params["not-arch"] !== undefined) {
    throw fail("'arch' and 'not-arch' cannot both be given; keep one of them");
  }
  const rule: PackageInstallRule = {
    phase: params.phase ?? "install.d",
    // DIB: the presence of the key is what counts, whatever its value.
    uninstall: "uninstall" in raw,
    buildOnly: "build-only" in raw,
    when: toList(params.when).map((text) => parseWhen(text, fail)),
  };
  if (params.installtype) rule.installtype = params.installtype;
  if (params.arch !== undefined) rule.arch = splitArchList(params.arch);
  if (params["not-arch"] !== undefined) rule.notArch = splitArchList(params["not-arch"]);
  if (params.dib_python_version !== undefined)
    rule.dibPythonVersion = String(params.dib_python_version);
  if (where.file) rule.file = where.file;
  if (where.line) rule.line = where.line;
  return rule;
}

/** `"ppc64, ppc64le"` → both names. DIB does not strip the spaces (a QUIRK we fix). */
function splitArchList(value: string | string[]): string[] {
  return toList(value)
    .flatMap((item) => item.split(","))
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function parseWhen(text: string, fail: (message: string) => DibError): WhenCondition {
  const match = WHEN_LINE.exec(text);
  if (!match) {
    throw fail(`Malformed when line: ${text} (write 'VARIABLE = value' or 'VARIABLE != value')`);
  }
  return { variable: match[1] ?? "", op: match[2] as "=" | "!=", value: match[3] ?? "", text };
}

function toList<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Reads an element's package-installs.json and then .yaml (DIB reads both when both exist). */
export async function readPackageInstalls(elementDir: string): Promise<PackageInstalls[]> {
  const found: PackageInstalls[] = [];
  for (const name of PACKAGE_INSTALLS_FILES) {
    const file = join(elementDir, name);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    found.push(parsePackageInstalls(text, file));
  }
  return found;
}

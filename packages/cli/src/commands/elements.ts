import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { machine } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type DiscoveredElement,
  debianArchName,
  describeSource,
  discoverElements,
  type Element,
  type ElementCatalog,
  elementInfoEnvScript,
  HOOK_PHASES,
  mergeSvcMaps,
  readElement,
  readElementSummary,
  readPackageInstalls,
  readSvcMap,
  resolveElements,
  resolveImageElements,
  squashPackageInstalls,
  svcMapServicesText,
} from "@dib/elements";
import { DibError } from "@dib/host";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";

export interface ElementsCommandOptions {
  /**
   * Folders whose node_modules (and those of the folders above) hold element packages,
   * earlier first. Default: the current directory, then dib-cli's own package folder,
   * where the stock element packages it depends on are installed.
   */
  searchFrom?: string[];
  /** Where ELEMENTS_PATH, DIB_DEBUG_TRACE and the package-installs variables are read. */
  env?: NodeJS.ProcessEnv;
}

interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

function output(command: Command): Output {
  const config = command.configureOutput();
  return {
    out: (text) => (config.writeOut ? config.writeOut(text) : process.stdout.write(text)),
    err: (text) => (config.writeErr ? config.writeErr(text) : process.stderr.write(text)),
  };
}

/** dib-cli's package folder: above src/commands/ when run from source, above dist/ when built. */
function cliPackageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name;
      if (name === "dib-cli") return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) return dirname(fileURLToPath(import.meta.url));
    dir = parent;
  }
}

function context(options: ElementsCommandOptions) {
  const env = options.env ?? process.env;
  const searchFrom = options.searchFrom ?? [process.cwd(), cliPackageDir()];
  const debug = Number(env.DIB_DEBUG_TRACE ?? 0) > 0;
  return {
    env,
    /** Discovery with `--elements-path` (or ELEMENTS_PATH) first, then the element packages. */
    async catalog(elementsPath: string | undefined, io: Output): Promise<ElementCatalog> {
      const catalog = await discoverElements({
        elementsPath: elementsPath ?? env.ELEMENTS_PATH,
        searchFrom,
      });
      if (debug) {
        for (const o of catalog.overrides) {
          io.err(
            `debug: element ${o.name}: ${describeSource(o.used)} overrides ${describeSource(o.shadowed)}\n`,
          );
        }
      }
      return catalog;
    },
  };
}

function elementsPathOption(command: Command): Command {
  return command.option(
    "--elements-path <folders>",
    "colon-separated folders holding elements, searched before element packages (default: $ELEMENTS_PATH)",
  );
}

function columns(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}

function mustFind(catalog: ElementCatalog, name: string): DiscoveredElement {
  const element = catalog.elements.get(name);
  if (element) return element;
  // Resolution's error carries the suggestions; a one-element resolve would also demand an OS.
  try {
    resolveElements([name], catalog);
  } catch (error) {
    if (error instanceof DibError && error.code !== "DIB_NO_OPERATING_SYSTEM") throw error;
  }
  throw new DibError("DIB_ELEMENT_NOT_FOUND", `Element '${name}' not found`);
}

/** `dib-cli elements list|show|resolve`: what elements exist, what one holds, what a list expands to. */
export function registerElementsCommand(
  program: Command,
  options: ElementsCommandOptions = {},
): Command {
  const ctx = context(options);
  const elements = program
    .command("elements")
    .description(
      "list, show and resolve diskimage-builder elements (ELEMENTS_PATH and element packages)",
    );

  elementsPathOption(
    elements
      .command("list")
      .description("list every element that can be used: name, where it comes from, what it does")
      .option("--json", "print JSON"),
  ).action(async (opts: { json?: boolean; elementsPath?: string }, command: Command) => {
    const io = output(command);
    const catalog = await ctx.catalog(opts.elementsPath, io);
    const rows = await Promise.all(
      [...catalog.elements.values()].map(async (e) => ({
        name: e.name,
        path: e.dir,
        from: describeSource(e),
        source: e.source,
        summary: (await readElementSummary(e)) ?? "",
        deps: e.deps,
        provides: e.provides,
      })),
    );
    if (opts.json) {
      io.out(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (rows.length === 0) {
      io.err("no elements found: set ELEMENTS_PATH or install element packages\n");
      return;
    }
    io.out(columns(rows.map((r) => [r.name, r.from, r.summary])));
  });

  elementsPathOption(
    elements
      .command("show")
      .description(
        "show what an element holds: deps, provides, hooks per phase, package-installs, …",
      )
      .argument("<name>", "element name")
      .option("--json", "print JSON"),
  ).action(
    async (name: string, opts: { json?: boolean; elementsPath?: string }, command: Command) => {
      const io = output(command);
      const catalog = await ctx.catalog(opts.elementsPath, io);
      const element = await readElement(mustFind(catalog, name));
      if (opts.json) {
        io.out(`${JSON.stringify(element, null, 2)}\n`);
        return;
      }
      io.out(describeElement(element));
    },
  );

  elementsPathOption(
    elements
      .command("resolve")
      .description(
        "expand elements as a build would: base added (unless -n), vm's default block-device element, then element-deps and element-provides",
      )
      .argument("<names...>", "element names, as given to a build")
      .option("-a, --arch <arch>", "architecture of the image (picks vm's block-device element)")
      .option("-n, --skip-base", "do not add the base element (as build -n)")
      .option("--json", 'print [{"name", "path"}, …] in resolution order'),
  ).action(
    async (
      names: string[],
      opts: { json?: boolean; elementsPath?: string; arch?: string; skipBase?: boolean },
      command: Command,
    ) => {
      const io = output(command);
      const resolved = resolveImageElements(names, await ctx.catalog(opts.elementsPath, io), {
        arch: opts.arch ?? ctx.env.ARCH ?? debianArchName(machine()),
        skipBase: opts.skipBase ?? false,
      });
      if (opts.json) {
        const list = resolved.elements.map((e) => ({ name: e.name, path: e.dir }));
        io.out(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      io.out(`Building elements: ${resolved.elementArgs.join(" ")}\n`);
      io.out(columns(resolved.elements.map((e) => [e.name, e.dir])));
      for (const [virtual, provider] of Object.entries(resolved.provided)) {
        io.out(`(${virtual} is provided by ${provider})\n`);
      }
    },
  );
  return elements;
}

function describeElement(element: Element): string {
  const lines: string[] = [];
  const field = (label: string, value: string) => lines.push(`${`${label}:`.padEnd(18)}${value}`);
  field("name", element.name);
  field("folder", element.dir);
  field(
    "from",
    element.source.kind === "package"
      ? describeSource(element)
      : `ELEMENTS_PATH entry ${element.source.entry}`,
  );
  if (element.summary) field("summary", element.summary);
  field("element-deps", element.deps.join(" ") || "-");
  field("element-provides", element.provides.join(" ") || "-");
  const phases = HOOK_PHASES.filter((p) => element.hooks[p]?.length);
  if (phases.length > 0) {
    lines.push("hooks:");
    for (const phase of phases) {
      const scripts = (element.hooks[phase] ?? []).map(
        (h) => h.name + (h.executable ? "" : " (not executable)"),
      );
      lines.push(`  ${phase.padEnd(16)}${scripts.join(" ")}`);
    }
  }
  if (element.environment.length > 0)
    field("environment.d", element.environment.map((e) => e.name).join(" "));
  for (const installs of element.packageInstalls) {
    field(
      "package-installs",
      `${installs.packages.map((p) => p.name).join(" ")}  (${installs.file})`,
    );
  }
  if (element.pkgMap) field("pkg-map", element.pkgMap.file);
  const configs = Object.keys(element.blockDeviceConfigs);
  if (configs.length > 0) field("block-device", configs.join(" "));
  if (element.staticDir) field("static", element.staticDir);
  if (element.binDir) field("bin", element.binDir);
  if (element.sourceRepositories.length > 0) {
    field("source repos", element.sourceRepositories.map((s) => s.name).join(" "));
  }
  if (element.readme) field("readme", element.readme);
  for (const warning of element.warnings) lines.push(`warning: ${warning.message}`);
  return `${lines.join("\n")}\n`;
}

/**
 * `dib-cli element-info [--env] NAMES`: DIB's element-info. Prints the expanded element
 * names, or with `--env` the IMAGE_ELEMENT, IMAGE_ELEMENT_YAML and get_image_element_array
 * definitions to `eval`.
 */
export function registerElementInfoCommand(
  program: Command,
  options: ElementsCommandOptions = {},
): Command {
  const ctx = context(options);
  return elementsPathOption(
    program
      .command("element-info")
      .description(
        "expand elements as DIB's element-info does (--env: shell code for IMAGE_ELEMENT*)",
      )
      .argument("<names...>", "element names")
      .option("--expand-dependencies", "print the expanded element names (the default)")
      .option(
        "-e, --env",
        "print IMAGE_ELEMENT, IMAGE_ELEMENT_YAML and get_image_element_array for eval",
      ),
  ).action(
    async (names: string[], opts: { env?: boolean; elementsPath?: string }, command: Command) => {
      const io = output(command);
      const resolved = resolveElements(names, await ctx.catalog(opts.elementsPath, io));
      if (opts.env) io.out(elementInfoEnvScript(resolved.elements));
      else io.out(`${resolved.elements.map((e) => e.name).join(" ")}\n`);
    },
  );
}

/**
 * `dib-cli internal package-installs-squash --elements "a b" --path "$ELEMENTS_PATH" OUT`:
 * what the package-installs element's extra-data.d hook runs to write
 * /tmp/package-installs.json. Element folders come from IMAGE_ELEMENT_YAML when the build
 * exported it (so element packages are found too), else from discovery.
 */
export function registerInternalPackageInstallsCommand(
  program: Command,
  options: ElementsCommandOptions = {},
): Command {
  const ctx = context(options);
  return internalGroup(program)
    .command("package-installs-squash")
    .description("squash the package-installs of the build's elements into one JSON file")
    .requiredOption("--elements <names>", "space-separated element names ($IMAGE_ELEMENT)")
    .option("--path <folders>", "ELEMENTS_PATH")
    .argument("<outfile>", "where to write the JSON")
    .action(
      async (outfile: string, opts: { elements: string; path?: string }, command: Command) => {
        const io = output(command);
        const names = elementNames(opts.elements);
        const dirs = await elementDirs(names, opts.path, ctx, io);
        const elements = await Promise.all(
          names.map(async (name) => ({
            name,
            packageInstalls: await readPackageInstalls(dirs.get(name) ?? ""),
          })),
        );
        const squashed = squashPackageInstalls(elements, ctx.env);
        await writeFile(outfile, `${JSON.stringify(squashed, null, 1)}\n`);
      },
    );
}

/**
 * `dib-cli internal svc-map-merge --elements "a b" --distro NAME OUT`: what the svc-map
 * element's extra-data.d hook runs to write the image's services file: every element's
 * svc-map resolved for the distro (distro, family, default, else the name itself).
 */
export function registerInternalSvcMapCommand(
  program: Command,
  options: ElementsCommandOptions = {},
): Command {
  const ctx = context(options);
  return internalGroup(program)
    .command("svc-map-merge")
    .description("merge the svc-map files of the build's elements into one services file")
    .requiredOption("--elements <names>", "space-separated element names ($IMAGE_ELEMENT)")
    .requiredOption("--distro <name>", "DISTRO_NAME of the image")
    .option("--path <folders>", "ELEMENTS_PATH")
    .argument("<outfile>", "where to write the services file")
    .action(
      async (
        outfile: string,
        opts: { elements: string; distro: string; path?: string },
        command: Command,
      ) => {
        const io = output(command);
        const names = elementNames(opts.elements).sort();
        const dirs = await elementDirs(names, opts.path, ctx, io);
        const maps: {
          element: string;
          map: NonNullable<Awaited<ReturnType<typeof readSvcMap>>>;
        }[] = [];
        for (const name of names) {
          const map = await readSvcMap(dirs.get(name) ?? "");
          if (map) maps.push({ element: name, map });
        }
        await writeFile(outfile, svcMapServicesText(mergeSvcMaps(maps, opts.distro)));
      },
    );
}

/** The hidden `internal` group element hooks call, made by whichever register runs first. */
export function internalGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === "internal") ??
    program.command("internal", { hidden: true }).description("commands element hooks call")
  );
}

/** The names in an `--elements "a b"` option ($IMAGE_ELEMENT), in their order. */
function elementNames(text: string): string[] {
  return text.split(/\s+/).filter((n) => n !== "");
}

/**
 * The folder of each named element: from IMAGE_ELEMENT_YAML when the build exported it, and
 * from discovery (`--path`, then the element packages) for any it does not name.
 */
async function elementDirs(
  names: string[],
  elementsPath: string | undefined,
  ctx: ReturnType<typeof context>,
  io: Output,
): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  const imageElementYaml = ctx.env.IMAGE_ELEMENT_YAML;
  if (imageElementYaml) {
    const map = (parseYaml(imageElementYaml) ?? {}) as Record<string, string>;
    for (const [name, dir] of Object.entries(map)) dirs.set(name, String(dir));
  }
  if (names.every((n) => dirs.has(n))) return dirs;
  const found = await ctx.catalog(elementsPath, io);
  for (const name of names) {
    if (dirs.has(name)) continue;
    dirs.set(name, mustFind(found, name).dir);
  }
  return dirs;
}

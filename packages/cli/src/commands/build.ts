import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptionsInput, type BuildResult, build } from "@dib/builder";
import { DibError, Host, installInterruptHandler, toDibError } from "@dib/host";
import { KNOWN_OUTPUT_TYPES } from "@dib/output";
import type { Command } from "commander";
import { BuildReporter, type ReporterStreams } from "../build-reporter.js";
import {
  formatInvocation,
  imageInvocation,
  mergeImageDefinitions,
  readImageFiles,
} from "../image-file.js";
import { detailLines } from "../report-error.js";
import { type BuildDisplay, type Env, parseBuildArgs } from "./build-args.js";

/** `-t`'s types as the help lists them: @dib/output's, the list its errors give too. */
function typeLines(indent: string, width: number): string {
  const lines: string[] = [];
  let line = "output types:";
  for (const word of [...KNOWN_OUTPUT_TYPES, "(default: qcow2)"]) {
    if (indent.length + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line += ` ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

export const BUILD_USAGE = `Usage: dib-cli build [OPTION]... ELEMENT...
       dib-cli build [--dry-run] [--stop-on-failure] IMAGES.yaml...
       diskimage-builder [--dry-run] [--stop-on-failure] IMAGES.yaml...
       disk-image-create [OPTION]... ELEMENT...
       ramdisk-image-create [OPTION]... ELEMENT...   (build --ramdisk)

Builds a disk image (or a root tree archive) from diskimage-builder elements.
Options and element names may be mixed; long options may be shortened.

  -a ARCH                 image architecture, e.g. arm64 (default: the host's)
  -o NAME                 output name, may include a directory (default: image)
  -t TYPE[,TYPE…]         ${typeLines(" ".repeat(26), 80)}
  -x, --trace             show every command and hook output; repeat for more
                          (sets DIB_DEBUG_TRACE)
  -u                      do not compress the qcow2
  -c                      clear the environment (keeps HOME, PATH, USER, TERM,
                          LANG, TZ and the proxy variables)
  -n                      do not add the 'base' element
  -p PKG[,PKG…]           install these packages after install.d (repeatable)
  -h, --help              this help; --version prints the version
  --checksum              write .md5 and .sha256 files beside disk images
  --image-size GB         image size in GB (fractions allowed; default:
                          measured)
  --image-extra-size MB   room added to the measured size, in MiB
  --image-cache DIR       cache for downloads (default ~/.cache/image-create)
  --max-online-resize N   ext4 blocks the root filesystem can grow to online
  --min-tmpfs GB          build in a tmpfs if RAM ≥ twice this (default 2)
  --mkfs-journal-size MB  ext4 journal size (default 64)
  --mkfs-options "OPTS"   extra options for the root mkfs
  --no-tmpfs              build on disk, not in a tmpfs
  --no-cache              build everything, neither reading nor writing the
                          stage and output cache (DIB_STAGE_CACHE=0: off)
  --offline               do not refresh cached resources
  --qemu-img-options K=V,…  options for qemu-img convert -o
  --root-label LABEL      root filesystem label (default cloudimg-rootfs; on xfs
                          img-rootfs)
  --ramdisk               build a ramdisk (ramdisk-image-create): NAME.kernel
                          and NAME.initramfs from the ramdisk element, no disk
                          image
  --ramdisk-element E     main element of ramdisk builds (default ramdisk;
                          dracut-ramdisk where busybox is not the answer)
  --install-type TYPE     source or package (default source)
  --docker-target REPO:TAG  name of the docker/oci image
  --logfile FILE          append the build log here (the console stays quiet)
  --json                  print progress as JSON, one event per line
  --keep-on-failure       keep the build directory after a failure (then run
                          dib-cli cleanup --remove DIR)

Image files (YAML lists of image definitions, see the README):
  --dry-run               print the builds instead of running them
  --stop-on-failure       stop at the first failing image

Environment: ELEMENTS_PATH, ARCH, DIB_IMAGE_SIZE, DIB_IMAGE_EXTRA_SIZE,
DIB_JOURNAL_SIZE, DIB_BLOCK_DEVICE_CONFIG, DIB_BLOCK_SIZE, DIB_IMAGE_CACHE,
TMP_DIR, DIB_NO_TMPFS, DIB_MIN_TMPFS, DIB_OFFLINE, DIB_CHECKSUM,
DIB_DEBUG_TRACE, DIB_QUIET, DIB_NO_TIMESTAMP, DIB_SHOW_IMAGE_USAGE,
DIB_GZIP_BIN, DIB_DEFAULT_INSTALLTYPE, OVERWRITE_OLD_IMAGE, ROOT_LABEL, FS_TYPE,
break, break_cmd, break_outside_target, DIB_STAGE_CACHE, DIB_IMAGE_CACHE_MAX,
DIB_QCOW2_COMPRESSION_TYPE.
`;

/** This package's folder (where its own element packages are installed). */
function cliPackageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "dib-cli")
          return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return dirname(fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/**
 * How hooks run `dib-cli`: the same node, with the built entry point, or from source
 * through tsx when this module is the TypeScript source.
 */
function cliCommand(): string[] {
  const self = fileURLToPath(import.meta.url);
  const pkg = cliPackageDir();
  if (self.endsWith(".ts")) {
    return [
      process.execPath,
      "--conditions=@dib/source",
      "--import",
      import.meta.resolve("tsx"),
      join(pkg, "src", "bin.ts"),
    ];
  }
  return [process.execPath, join(pkg, "dist", "bin.js")];
}

export interface BuildIo {
  env: Env;
  cwd: string;
  stdout: ReporterStreams["out"];
  /** Where the interrupt message goes (default: process.stderr). */
  stderr?: ReporterStreams["err"] | undefined;
  isTTY: boolean;
  columns?: number | undefined;
  version?: string | undefined;
  /** How hooks run dib-cli (default: this dib-cli, see cliCommand()). */
  cliCommand?: string[] | undefined;
  /** Release everything and exit 130/143/129 on SIGINT/SIGTERM/SIGHUP (default true). */
  handleSignals?: boolean | undefined;
}

/** The reporter of the build running now, which the (process-wide) interrupt handler tells. */
let interruptReporter: BuildReporter | undefined;

function defaultIo(): BuildIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    isTTY: process.stdout.isTTY === true,
    columns: process.stdout.columns,
  };
}

async function runOne(
  options: BuildOptionsInput,
  display: BuildDisplay,
  io: BuildIo,
): Promise<BuildResult> {
  const reporter = new BuildReporter(display, {
    out: io.stdout,
    err: io.stderr ?? process.stderr,
    isTTY: io.isTTY,
    columns: io.columns,
  });
  const host = new Host({ trace: display.trace, log: (line) => reporter.hostLine(line) });
  const handleSignals = io.handleSignals ?? true;
  if (handleSignals) {
    // Installed here, before build() would: the handler is installed once per process, so
    // the builder's own (which says its interrupt message as a log line, on stdout) is not.
    interruptReporter = reporter;
    installInterruptHandler(host, (signal) => interruptReporter?.interrupted(signal));
  }
  const input: BuildOptionsInput = {
    ...options,
    cliCommand: io.cliCommand ?? cliCommand(),
    elementSearchFrom: [io.cwd, cliPackageDir()],
  };
  try {
    const result = await build(input, {
      host,
      onEvent: (e) => reporter.event(e),
      handleSignals,
    });
    reporter.summary(result);
    return result;
  } catch (error) {
    const e = toDibError(error);
    reporter.failed(e);
    throw e;
  }
}

/**
 * `dib-cli build ARGS` (and `disk-image-create ARGS`): parses the arguments and runs the
 * build, or each build of the image files. Returns the exit code; errors are thrown for
 * the caller to print.
 */
export async function runBuildCommand(
  argv: readonly string[],
  io: BuildIo = defaultIo(),
): Promise<number> {
  const command = parseBuildArgs(argv, io.env, io.cwd);
  switch (command.kind) {
    case "help":
      io.stdout.write(BUILD_USAGE);
      return 0;
    case "version":
      io.stdout.write(`${io.version ?? "dib-cli"}\n`);
      return 0;
    case "build":
      await runOne(command.options, command.display, io);
      return 0;
    case "image-files": {
      const invocations = mergeImageDefinitions(
        readImageFiles(command.files.map((f) => resolve(io.cwd, f))),
      ).map(imageInvocation);
      const failed: { image: string; error: DibError }[] = [];
      for (const invocation of invocations) {
        process.stderr.write(`${formatInvocation(invocation)}\n`);
        if (command.dryRun) continue;
        const env: Env = { ...io.env, ...invocation.environment };
        try {
          const parsed = parseBuildArgs(invocation.argv, env, io.cwd);
          if (parsed.kind !== "build") continue;
          const display = { ...parsed.display, json: command.display.json || parsed.display.json };
          await runOne({ ...parsed.options, ramdisk: invocation.ramdisk }, display, { ...io, env });
        } catch (error) {
          const e = toDibError(error);
          if (command.stopOnFailure) throw e;
          const lines = [`error ${e.code}: ${e.message} (image ${invocation.imagename})`];
          lines.push(...detailLines(e.details));
          (io.stderr ?? process.stderr).write(`${lines.join("\n")}\n`);
          failed.push({ image: invocation.imagename, error: e });
        }
      }
      if (failed.length > 0) {
        throw new DibError(
          "DIB_IMAGES_FAILED",
          `${failed.length} of ${invocations.length} image(s) failed: ${failed.map((f) => f.image).join(", ")}`,
          {
            hint: "their errors are printed above; --stop-on-failure stops at the first one",
            cause: failed[0]?.error,
          },
        );
      }
      return 0;
    }
  }
}

/**
 * Adds `build` to the program. Its arguments are parsed by parseBuildArgs (GNU getopt
 * rules, as disk-image-create's), not by commander, so everything after `build` is
 * passed through as it is.
 */
export function registerBuildCommand(program: Command): void {
  program
    .command("build")
    .description("build an image from elements (the default command; disk-image-create's options)")
    .argument("[args...]", "options and element names, or image files (*.yaml)")
    .helpOption(false)
    // `dib-cli help build` prints what `dib-cli build --help` does, not commander's stub.
    .configureHelp({ formatHelp: () => BUILD_USAGE })
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_args: string[], _opts: unknown, command: Command) => {
      const code = await runBuildCommand(command.args, {
        ...defaultIo(),
        version: program.version(),
      });
      if (code !== 0) process.exitCode = code;
    });
}

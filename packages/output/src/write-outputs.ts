import { statSync } from "node:fs";
import { mkdir, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { DibError, type Host, readMountinfo, requireTools } from "@dib/host";
import { checksumFileName, checksumLine, type Digests, hashFile } from "./checksum.js";
import { concurrencyLimit } from "./concurrency-limit.js";
import type { ConverterContext, Produced, TarSink } from "./converter.js";
import { converterFor } from "./converters.js";
import { outputSpaceError } from "./no-space.js";
import { moveOldImageAside } from "./old-image.js";
import type { OutputResult } from "./output-result.js";
import type { OutputPlan, OutputStage, OutputStep } from "./plan.js";
import { runTarPass } from "./tar-pass.js";
import { type TreeExclusion, treeExclusions } from "./tree-exclusions.js";

export interface WriteOutputsOptions {
  host: Host;
  /** The raw disk image; needed when the plan has disk types. */
  rawImage?: string;
  /** The image's root tree (a mounted image or a plain directory); needed for tree types. */
  tree?: string;
  /** File names in the plan are relative to this (default: the process's cwd). */
  cwd?: string;
  /**
   * Mount points of the image's own filesystems below the tree (`/boot`, `/boot/efi`),
   * whose content the tree outputs carry. Any other mount below the tree is treated as
   * the host's and only its mount point directory is kept.
   */
  keepMounts?: readonly string[];
  /** Conversions at once (default: the number of cores). */
  parallel?: number;
  /** Build time for image configs and archive members (default: now). */
  now?: Date;
  /** Called as each output is finished. */
  onOutput?: (result: OutputResult) => void;
}

type FileStep = Extract<OutputStep, { file: string }>;

function hasFile(step: OutputStep): step is FileStep {
  return "file" in step;
}

/** The step with its file names made absolute against `cwd`. */
function absoluteStep<S extends OutputStep>(step: S, cwd: string): S {
  return hasFile(step)
    ? { ...step, file: resolve(cwd, step.file), temp: resolve(cwd, step.temp) }
    : step;
}

function firstRejection(settled: PromiseSettledResult<unknown>[]): unknown {
  const failed = settled.find((s) => s.status === "rejected");
  return failed?.status === "rejected" ? failed.reason : undefined;
}

async function requireInput(path: string | undefined, what: string, code: string): Promise<string> {
  if (path === undefined) {
    throw new DibError(code, `the output plan needs ${what}, and none was given`);
  }
  try {
    return await realpath(path);
  } catch (cause) {
    throw new DibError(code, `${what} ${path} does not exist`, { cause, file: path });
  }
}

/**
 * Carries out a plan from planOutputs: the tree outputs first (one tar pass for tar, tgz,
 * docker and oci; mksquashfs beside it), then the disk conversions in parallel, then the
 * raw image. Each output is written to `<file>-new`, an existing `<file>` is moved aside
 * (or replaced with OVERWRITE_OLD_IMAGE), and the new one renamed into place before its
 * checksum files are written. On failure every `-new` file is removed; a file system that
 * ran full is reported as DIB_OUTPUT_NO_SPACE naming the file and ENOSPC.
 */
export async function writeOutputs(
  plan: OutputPlan,
  options: WriteOutputsOptions,
): Promise<OutputResult[]> {
  const { host } = options;
  const cwd = options.cwd ?? process.cwd();
  const stageNames = new Set(plan.stages.map((s) => s.name));
  const tree = stageNames.has("tree")
    ? await requireInput(options.tree, "the root tree", "DIB_OUTPUT_NEEDS_TREE")
    : undefined;
  const rawImage =
    stageNames.has("disk") || stageNames.has("raw")
      ? await requireInput(options.rawImage, "the raw disk image", "DIB_OUTPUT_NEEDS_DISK")
      : undefined;
  requireTools(plan.tools, "for the image outputs");

  const imageName = resolve(cwd, plan.imageName);
  await mkdir(dirname(imageName), { recursive: true });
  const context: ConverterContext = {
    host,
    algorithms: plan.checksums,
    now: options.now ?? new Date(),
  };
  const limit = concurrencyLimit(options.parallel ?? availableParallelism());
  const results = new Map<OutputStep, OutputResult>();
  /** The output file each failure was writing, to name it when the disk ran full. */
  const failedFile = new WeakMap<object, string>();
  const writing = (steps: readonly OutputStep[]) => (error: unknown) => {
    const step = steps.find(hasFile);
    if (step && typeof error === "object" && error !== null && !failedFile.has(error)) {
      failedFile.set(error, resolve(cwd, step.file));
    }
    throw error;
  };

  const finish = async (step: OutputStep, produced: Produced, started: number) => {
    const abs = absoluteStep(step, cwd);
    let result: OutputResult;
    if (!hasFile(abs) || !hasFile(step)) {
      result = {
        type: step.type,
        via: step.via,
        ...(produced.image ? { image: produced.image } : {}),
        ...(produced.imageId ? { imageId: produced.imageId } : {}),
        bytes: 0,
        checksums: {},
        checksumFiles: [],
        renamedOld: [],
        durationMs: Date.now() - started,
      };
    } else {
      const digests: Digests = produced.digests ?? (await hashFile(abs.temp, plan.checksums));
      const bytes = (await stat(abs.temp)).size;
      const renamedOld = await moveOldImageAside(abs.file, imageName, plan.overwriteOld);
      await rename(abs.temp, abs.file);
      const checksumFiles: string[] = [];
      for (const algorithm of plan.checksums) {
        const digest = digests[algorithm];
        if (digest === undefined) continue;
        const sumFile = checksumFileName(abs.file, algorithm);
        await writeFile(sumFile, checksumLine(digest, abs.file));
        checksumFiles.push(sumFile);
      }
      result = {
        type: step.type,
        via: step.via,
        file: step.file,
        path: abs.file,
        bytes,
        checksums: digests,
        checksumFiles,
        renamedOld,
        durationMs: Date.now() - started,
      };
    }
    results.set(step, result);
    options.onOutput?.(result);
  };

  const treeStage = async (stage: OutputStage, root: string) => {
    const exclusions: TreeExclusion[] = treeExclusions(root, readMountinfo(), {
      keep: options.keepMounts ?? [],
      isDirectory: (p) => {
        try {
          return statSync(p).isDirectory();
        } catch {
          return true;
        }
      },
    });
    const streamed = stage.steps.filter((s) => s.input === "tar-stream");
    const jobs: Promise<unknown>[] = [];
    if (streamed.length > 0) {
      jobs.push(
        limit(async () => {
          const started = Date.now();
          const sinks: TarSink[] = [];
          try {
            for (const step of streamed) {
              const converter = converterFor(step.via);
              if (converter.input !== "tar-stream")
                throw new Error(`${step.via} reads no tar stream`);
              sinks.push(converter.open(absoluteStep(step, cwd) as never, context));
            }
          } catch (error) {
            // Whatever already started (a gzip waiting for input) is ended before giving up.
            for (const sink of sinks) sink.input.destroy();
            await Promise.allSettled(sinks.map((s) => s.done));
            throw error;
          }
          const produced = await runTarPass(host, root, exclusions, sinks);
          await Promise.all(streamed.map((step, i) => finish(step, produced[i] ?? {}, started)));
        }).catch(writing(streamed)),
      );
    }
    for (const step of stage.steps.filter((s) => s.input === "tree")) {
      const converter = converterFor(step.via);
      if (converter.input !== "tree") continue;
      const started = Date.now();
      jobs.push(
        limit(() => converter.convert(absoluteStep(step, cwd) as never, root, exclusions, context))
          .then((produced) => finish(step, produced, started))
          .catch(writing([step])),
      );
    }
    const failed = firstRejection(await Promise.allSettled(jobs));
    if (failed !== undefined) throw failed;
  };

  let rawDigests: Promise<Digests> | undefined;
  const diskStage = async (stage: OutputStage, raw: string) => {
    const jobs = stage.steps.map((step) => {
      const converter = converterFor(step.via);
      if (converter.input !== "disk") throw new Error(`${step.via} is not a disk converter`);
      const started = Date.now();
      return limit(async () => {
        // The raw output is the input itself: its checksums are read while the other
        // conversions read it too, and it is moved only after they finished.
        const digests = step.type === "raw" ? await rawDigests : undefined;
        const produced = await converter.convert(absoluteStep(step, cwd) as never, raw, context);
        return digests ? { ...produced, digests } : produced;
      })
        .then((produced) => finish(step, produced, started))
        .catch(writing([step]));
    });
    const failed = firstRejection(await Promise.allSettled(jobs));
    if (failed !== undefined) throw failed;
  };

  try {
    for (const stage of plan.stages) {
      if (stage.name === "tree") {
        await treeStage(stage, tree as string);
        continue;
      }
      if (rawDigests === undefined && plan.stages.some((s) => s.name === "raw")) {
        rawDigests = hashFile(rawImage as string, plan.checksums);
        // Settled by the raw stage; a failure before it must not be an unhandled rejection.
        rawDigests.catch(() => {});
      }
      await diskStage(stage, rawImage as string);
    }
  } catch (error) {
    await Promise.all(
      plan.stages
        .flatMap((s) => s.steps)
        .filter(hasFile)
        .map((step) => rm(resolve(cwd, step.temp), { force: true })),
    );
    // After the partial files are gone, so the free space it reports is what is left.
    const file = typeof error === "object" && error !== null ? failedFile.get(error) : undefined;
    throw outputSpaceError(error, file ?? imageName);
  }

  return plan.stages
    .flatMap((s) => s.steps)
    .sort((a, b) => plan.types.indexOf(a.type) - plan.types.indexOf(b.type))
    .map((step) => results.get(step))
    .filter((r): r is OutputResult => r !== undefined);
}

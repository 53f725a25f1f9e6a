import { mkdtempSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { StageKey, StageStore, StoredOutputs } from "@dib/cache";
import { type Host, safeRemove } from "@dib/host";
import { checksumFileName, checksumLine, moveOldImageAside } from "@dib/output";
import type { BuildOutput } from "./build-events.js";
import { elementOutputs } from "./element-outputs.js";

/** Where a build's outputs go: the folder and the image name's last part (`-o`). */
export interface OutputPlace {
  cwd: string;
  imageName: string;
  overwriteOldImage: boolean;
}

function placeOf(options: OutputPlace): { dir: string; base: string; abs: string } {
  const abs = resolve(options.cwd, options.imageName);
  return { dir: dirname(abs), base: basename(abs), abs };
}

/** Whether anything below `path` (or `path` itself) changed since `sinceMs`. */
function changedSinceMs(path: string, sinceMs: number): boolean {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s) return false;
  if (s.mtimeMs >= sinceMs - 1000) return true;
  if (!s.isDirectory()) return false;
  return readdirSync(path).some((name) => changedSinceMs(join(path, name), sinceMs));
}

/**
 * What this build wrote that a later identical build may copy: its outputs (regular files
 * named after the image), their checksum files, the files elements wrote beside the image
 * (a ramdisk's kernel, ISOs) and the manifest folder `<name>.d`. Undefined with a reason
 * when an output is not such a file.
 */
export function collectOutputs(
  outputs: readonly BuildOutput[],
  options: OutputPlace,
  sinceMs: number,
): { stored: StoredOutputs; dir: string; bytes: number } | { reason: string } {
  const { dir, base } = placeOf(options);
  const names = new Set<string>();
  const stored: StoredOutputs = { base, outputs: [], names: [] };
  let bytes = 0;
  const all = [...outputs];
  for (const extra of elementOutputs(options, sinceMs)) {
    if (!all.some((o) => o.path === extra.path)) all.push(extra);
  }
  for (const output of all) {
    const name = basename(output.path);
    const s = statSync(output.path, { throwIfNoEntry: false });
    if (dirname(output.path) !== dir || !name.startsWith(base) || !s?.isFile()) {
      return { reason: `the ${output.type} output ${output.path} is not a file beside the image` };
    }
    stored.outputs.push({ type: output.type, name, bytes: s.size, checksums: output.checksums });
    names.add(name);
    bytes += s.size;
    for (const algorithm of Object.keys(output.checksums) as ("md5" | "sha256")[]) {
      names.add(basename(checksumFileName(output.path, algorithm)));
    }
  }
  if (changedSinceMs(join(dir, `${base}.d`), sinceMs)) names.add(`${base}.d`);
  stored.names = [...names];
  return { stored, dir, bytes };
}

/** Puts the stored outputs in place under this build's image name; returns them. */
export async function placeOutputs(
  host: Host,
  store: StageStore,
  key: StageKey,
  stored: StoredOutputs,
  options: OutputPlace,
): Promise<{ outputs: BuildOutput[] } | { miss: string }> {
  const { dir, base, abs } = placeOf(options);
  // Unpacked beside the outputs' place, so each is renamed into it, never copied twice.
  const temp = mkdtempSync(join(dir, `.${base}.dib-reuse-`));
  try {
    const result = await store.restore(key, temp);
    if (!result.hit) return { miss: result.reason };
    const renamed = (name: string) => join(dir, base + name.slice(stored.base.length));
    const outputs: BuildOutput[] = [];
    for (const output of stored.outputs) {
      const to = renamed(output.name);
      // -o of an existing image: moved aside with its checksum files, as a build would.
      await moveOldImageAside(to, abs, options.overwriteOldImage);
      outputs.push({
        type: output.type,
        path: to,
        bytes: output.bytes,
        checksums: output.checksums,
      });
    }
    for (const name of stored.names) {
      const from = join(temp, name);
      const to = renamed(name);
      if (statSync(from).isDirectory() && statSync(to, { throwIfNoEntry: false })) {
        // the manifest folder: merged into an existing one, as the manifests element copies
        await host.run(["cp", "-a", `${from}/.`, `${to}/`]);
      } else {
        renameSync(from, to);
      }
    }
    // Checksum files name the image by its base name: written for the new name.
    for (const output of outputs) {
      for (const [algorithm, digest] of Object.entries(output.checksums)) {
        const file = checksumFileName(output.path, algorithm as "md5" | "sha256");
        writeFileSync(file, checksumLine(digest, output.path));
      }
    }
    return { outputs };
  } finally {
    safeRemove(temp);
  }
}

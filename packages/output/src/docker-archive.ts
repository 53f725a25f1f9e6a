import { rm } from "node:fs/promises";
import { writeArchive } from "./archive-writer.js";
import type { OutputConverter } from "./converter.js";
import { hashedFileWriter } from "./hashed-file.js";
import { imageConfigJson, sha256Hex } from "./image-config.js";

/**
 * `-t docker` without a docker engine: a docker-archive (what `docker save` writes and
 * `docker load`, `podman load` and `skopeo copy docker-archive:` read), made by dib alone.
 * The tree's tar stream becomes the single layer, hashed for its diff_id as it is written
 * to a scratch file; the archive around it is written once the digest is known.
 */
export const dockerArchiveConverter: OutputConverter<"docker-archive"> = {
  input: "tar-stream",
  open(step, { algorithms, now }) {
    const layerFile = `${step.temp}.layer`;
    const layer = hashedFileWriter(layerFile, ["sha256"]);
    const done = layer.done
      .then(async ({ digests, bytes }) => {
        const diffId = digests.sha256 as string;
        const config = imageConfigJson({ platform: step.platform, diffId, created: now });
        const configName = `${sha256Hex(config)}.json`;
        const layerName = `${diffId}/layer.tar`;
        const manifest = [
          { Config: configName, RepoTags: [step.image.reference], Layers: [layerName] },
        ];
        const repositories = { [step.image.repository]: { [step.image.tag]: diffId } };
        return writeArchive(
          step.temp,
          [
            { name: `${diffId}/`, directory: true },
            { name: `${diffId}/VERSION`, content: "1.0" },
            { name: layerName, file: layerFile, size: bytes },
            { name: configName, content: config },
            { name: "manifest.json", content: JSON.stringify(manifest) },
            { name: "repositories", content: JSON.stringify(repositories) },
          ],
          { mtime: now, algorithms },
        );
      })
      .finally(() => rm(layerFile, { force: true }));
    return { input: layer.input, done };
  },
};

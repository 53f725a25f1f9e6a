import { rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { writeArchive } from "./archive-writer.js";
import { HashingStream } from "./checksum.js";
import type { OutputConverter } from "./converter.js";
import { writeHashedFile } from "./hashed-file.js";
import { imageConfigJson, sha256Hex } from "./image-config.js";

const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

/**
 * `-t oci`: an OCI image layout in a tar archive (`skopeo copy oci-archive:NAME.oci:TAG`,
 * `podman load`). The tree's tar stream is hashed for the diff_id, gzipped through
 * DIB_GZIP_BIN and hashed again for the layer digest on its way to a scratch file; the
 * layout around it is written once both digests are known.
 */
export const ociArchiveConverter: OutputConverter<"oci-archive"> = {
  input: "tar-stream",
  open(step, { host, algorithms, now }) {
    const blobFile = `${step.temp}.layer`;
    const uncompressed = new HashingStream(["sha256"]);
    const gzip = host.stream([...step.gzip, "-c"]);
    const done = Promise.all([
      pipeline(uncompressed, gzip.stdin),
      gzip.done,
      writeHashedFile(gzip.stdout, blobFile, ["sha256"]),
    ])
      .then(async ([, , blob]) => {
        const diffId = uncompressed.digests().sha256 as string;
        const layerDigest = blob.digests.sha256 as string;
        const config = imageConfigJson({ platform: step.platform, diffId, created: now });
        const manifest = JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA.manifest,
          config: {
            mediaType: MEDIA.config,
            digest: `sha256:${sha256Hex(config)}`,
            size: Buffer.byteLength(config),
          },
          layers: [{ mediaType: MEDIA.layer, digest: `sha256:${layerDigest}`, size: blob.bytes }],
        });
        const index = JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA.index,
          manifests: [
            {
              mediaType: MEDIA.manifest,
              digest: `sha256:${sha256Hex(manifest)}`,
              size: Buffer.byteLength(manifest),
              annotations: {
                "org.opencontainers.image.ref.name": step.image.tag,
                "io.containerd.image.name": step.image.reference,
              },
            },
          ],
        });
        return writeArchive(
          step.temp,
          [
            { name: "oci-layout", content: JSON.stringify({ imageLayoutVersion: "1.0.0" }) },
            { name: "blobs/", directory: true },
            { name: "blobs/sha256/", directory: true },
            { name: `blobs/sha256/${layerDigest}`, file: blobFile, size: blob.bytes },
            { name: `blobs/sha256/${sha256Hex(config)}`, content: config },
            { name: `blobs/sha256/${sha256Hex(manifest)}`, content: manifest },
            { name: "index.json", content: index },
          ],
          { mtime: now, algorithms },
        );
      })
      .finally(() => rm(blobFile, { force: true }));
    return { input: uncompressed, done };
  },
};

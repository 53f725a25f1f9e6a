import type { OutputConverter } from "./converter.js";
import { dockerArchiveConverter } from "./docker-archive.js";
import { dockerImportConverter } from "./docker-import.js";
import { ociArchiveConverter } from "./oci-archive.js";
import type { OutputStep } from "./plan.js";
import { qemuImgConverter } from "./qemu-img.js";
import { rawConverter } from "./raw-output.js";
import { squashfsConverter } from "./squashfs.js";
import { tarConverter } from "./tar-output.js";
import { tgzConverter } from "./tgz-output.js";
import { vhdUtilConverter } from "./vhd-util.js";

/** The converter behind each way a plan step can be carried out. */
export const CONVERTERS: { [V in OutputStep["via"]]: OutputConverter<V> } = {
  "qemu-img": qemuImgConverter,
  "vhd-util": vhdUtilConverter,
  move: rawConverter,
  tar: tarConverter,
  gzip: tgzConverter,
  "docker-import": dockerImportConverter,
  "docker-archive": dockerArchiveConverter,
  "oci-archive": ociArchiveConverter,
  mksquashfs: squashfsConverter,
};

export function converterFor<V extends OutputStep["via"]>(via: V): OutputConverter<V> {
  return CONVERTERS[via];
}

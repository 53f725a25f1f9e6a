import type { MkfsConfig } from "./schema.js";

const EXT = new Set(["ext2", "ext3", "ext4"]);
const FAT = new Set(["vfat", "fat"]);

/** The program that makes a filesystem of this type. */
export function mkfsTool(fsType: string): string {
  return fsType === "swap" ? "mkswap" : `mkfs.${fsType}`;
}

/** A FAT volume id is 32 bits: the first eight hex digits of the UUID. */
export function fatVolumeId(uuid: string): string {
  return uuid.replace(/-/g, "").slice(0, 8).toUpperCase();
}

/** Options as written in the config, split on blanks. */
export function splitOpts(opts: string | undefined): string[] {
  return opts === undefined ? [] : opts.split(/\s+/).filter((o) => o !== "");
}

/** The argv that makes the filesystem `config` describes on `device`. */
export function mkfsCommand(
  config: MkfsConfig,
  label: string,
  uuid: string,
  device: string,
): string[] {
  const type = config.type;
  const argv = [mkfsTool(type), ...splitOpts(config.opts)];
  argv.push(FAT.has(type) ? "-n" : "-L", label);
  if (EXT.has(type) || type === "swap" || type === "btrfs") argv.push("-U", uuid);
  else if (type === "xfs") argv.push("-m", `uuid=${uuid}`);
  else if (FAT.has(type)) argv.push("-i", fatVolumeId(uuid));
  if (EXT.has(type) || type === "xfs" || type === "btrfs" || type === "swap") argv.push("-q");
  argv.push(device);
  return argv;
}

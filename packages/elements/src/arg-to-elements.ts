import { debianArchName } from "./architecture.js";

export interface ArgToElementsOptions {
  /** ARCH of the image (amd64, arm64, …): picks the default block-device element for `vm`. */
  arch?: string | undefined;
  /** `-n`: do not add the `base` element. */
  skipBase?: boolean | undefined;
  /** For ramdisk builds: the ramdisk element, added first. */
  ramdiskElement?: string | undefined;
}

/** Architectures whose firmware has no BIOS path: a `vm` defaults to an EFI layout. */
const EFI_ONLY: ReadonlySet<string> = new Set(["arm64"]);

/**
 * What the user's element arguments become before resolution (DIB's arg_to_elements):
 * `vm` without any `block-device-*` element gets the default partition layout for the
 * architecture (block-device-efi on arm64/aarch64, block-device-mbr elsewhere), and
 * `base` is added unless skipped.
 */
export function argToElements(
  args: readonly string[],
  options: ArgToElementsOptions = {},
): string[] {
  const elements = [...args];
  if (elements.includes("vm") && !elements.some((e) => e.startsWith("block-device-"))) {
    elements.push(
      EFI_ONLY.has(debianArchName(options.arch ?? "")) ? "block-device-efi" : "block-device-mbr",
    );
  }
  if (!options.skipBase) elements.unshift("base");
  if (options.ramdiskElement) elements.unshift(options.ramdiskElement);
  return elements;
}

import type { Element } from "./element.js";

/** The block-device config file name suffix for an ARCH (ppc64le and ppc64el share one). */
export function blockDeviceConfigKey(arch: string): string {
  return arch === "ppc64le" ? "ppc64el" : arch;
}

/**
 * The element default block-device config for a build: the first element, in resolution
 * order, with `block-device-<ARCH>.yaml` or else `block-device-default.yaml`. Undefined
 * when no element has one (the builder then uses the plain loop + mkfs layout).
 */
export function selectBlockDeviceConfig(
  elements: readonly Pick<Element, "name" | "blockDeviceConfigs">[],
  arch: string,
): { element: string; file: string } | undefined {
  const key = blockDeviceConfigKey(arch);
  for (const element of elements) {
    const file = element.blockDeviceConfigs[key] ?? element.blockDeviceConfigs.default;
    if (file !== undefined) return { element: element.name, file };
  }
  return undefined;
}

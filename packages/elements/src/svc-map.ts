import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DibError } from "@dib/errors";
import { z } from "zod";
import { parseDataFile, schemaError } from "./data-file.js";
import { distroFamily } from "./pkg-map.js";

/** The file an element ships to map its service names per distribution. */
export const SVC_MAP_FILE = "svc-map";

/** An element's `svc-map` file: service → {distro | family | "default": name}. */
export const svcMapSchema = z.record(z.string(), z.record(z.string(), z.string()).nullable());
export type SvcMap = z.infer<typeof svcMapSchema>;

const CODE = "DIB_SVC_MAP_INVALID";
const HINT =
  "svc-map is YAML: each service name maps to a table of names by distro (ubuntu:), family (debian:, redhat:, suse:) or default:";

export function parseSvcMap(text: string, file: string): SvcMap {
  const dataFile = parseDataFile(text, file, { code: CODE, hint: HINT });
  const parsed = svcMapSchema.safeParse(dataFile.data ?? {});
  if (!parsed.success) throw schemaError(dataFile, parsed.error, CODE, HINT);
  return parsed.data;
}

/** An element's svc-map, or undefined when it has none. */
export async function readSvcMap(elementDir: string): Promise<SvcMap | undefined> {
  const file = join(elementDir, SVC_MAP_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return parseSvcMap(text, file);
}

/**
 * The services file of an image: every element's services, each resolved for `distro` —
 * its own entry, else its family's, else `default`, else the service's own name. A service
 * two elements both map is an error (DIB refuses it too), naming both.
 */
export function mergeSvcMaps(
  maps: readonly { element: string; map: SvcMap }[],
  distro: string,
): Record<string, string> {
  const family = distroFamily(distro);
  const merged: Record<string, string> = {};
  const owner = new Map<string, string>();
  for (const { element, map } of maps) {
    for (const [service, names] of Object.entries(map)) {
      const earlier = owner.get(service);
      if (earlier !== undefined) {
        throw new DibError(
          "DIB_SVC_MAP_DUPLICATE",
          `${service} already found in services list.  Check ${element} for duplicate service name.`,
          {
            hint: `'${earlier}' and '${element}' both map '${service}' in their svc-map files; keep it in one of them`,
            details: { service, elements: [earlier, element] },
          },
        );
      }
      owner.set(service, element);
      const table = names ?? {};
      merged[service] =
        table[distro] ??
        (family === undefined ? undefined : table[family]) ??
        table.default ??
        service;
    }
  }
  return merged;
}

/**
 * The merged services as a flat YAML block (`service: name`, sorted), the form the image's
 * /usr/share/svc-map/services has and the in-image `svc-map` reads without a YAML library.
 */
export function svcMapServicesText(merged: Readonly<Record<string, string>>): string {
  const plain = /^[A-Za-z0-9_@][A-Za-z0-9_.@/+-]*$/;
  const scalar = (s: string) => (plain.test(s) ? s : `'${s.replace(/'/g, "''")}'`);
  const lines = Object.keys(merged)
    .sort()
    .map((service) => `${scalar(service)}: ${scalar(merged[service] as string)}\n`);
  return lines.length === 0 ? "{}\n" : lines.join("");
}

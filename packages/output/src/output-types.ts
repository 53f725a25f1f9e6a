import { DibError } from "@dib/host";

/**
 * What each output type is made from and what its file is called. `disk` types convert the
 * raw disk image; `tree` types read the finished root tree (the `tar-stream` ones share one
 * `tar` pass over it).
 */
export const OUTPUT_TYPES = {
  qcow2: { input: "disk", extension: "qcow2" },
  raw: { input: "disk", extension: "raw" },
  vhd: { input: "disk", extension: "vhd" },
  vpc: { input: "disk", extension: "vpc" },
  vmdk: { input: "disk", extension: "vmdk" },
  vdi: { input: "disk", extension: "vdi" },
  qed: { input: "disk", extension: "qed" },
  tar: { input: "tar-stream", extension: "tar" },
  tgz: { input: "tar-stream", extension: "tgz" },
  docker: { input: "tar-stream", extension: "docker" },
  oci: { input: "tar-stream", extension: "oci" },
  // DIB's name; kept so scripts that look for NAME.squash keep working.
  squashfs: { input: "tree", extension: "squash" },
} as const satisfies Record<string, { input: OutputInput; extension: string }>;

export type OutputType = keyof typeof OUTPUT_TYPES;
export type OutputInput = "disk" | "tree" | "tar-stream";

export const KNOWN_OUTPUT_TYPES = Object.keys(OUTPUT_TYPES) as OutputType[];

export function isOutputType(value: string): value is OutputType {
  return Object.hasOwn(OUTPUT_TYPES, value);
}

const RETIRED: Record<string, string> = {
  aci: "the appc ACI format is retired; -t oci writes an OCI image archive instead",
};

/**
 * Validates `-t` (already split on commas): unknown names fail with the list of known
 * ones, repeats are dropped, order is kept. An empty list means DIB's default, qcow2.
 */
export function parseOutputTypes(types: readonly string[]): OutputType[] {
  const wanted = types.map((t) => t.trim()).filter((t) => t !== "");
  if (wanted.length === 0) return ["qcow2"];
  const unknown = wanted.filter((t) => !isOutputType(t));
  if (unknown.length > 0) {
    const retired = unknown.map((t) => RETIRED[t]).filter(Boolean);
    throw new DibError(
      "DIB_OUTPUT_UNKNOWN_TYPE",
      `unknown output type${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`,
      {
        hint: [...retired, `known types: ${KNOWN_OUTPUT_TYPES.join(", ")}`].join("\n"),
        details: { unknown, known: KNOWN_OUTPUT_TYPES },
      },
    );
  }
  return [...new Set(wanted as OutputType[])];
}

import { readFileSync } from "node:fs";
import { DibError } from "@dib/host";
import { parse } from "yaml";
import { z } from "zod";

/** One image definition of a YAML image file (DIB's `diskimage-builder` schema, §1.4). */
const imageDefinitionSchema = z.strictObject({
  imagename: z.string().min(1).optional(),
  // Passed on as `-a`: @dib/elements' architecture() checks it, as it does -a.
  arch: z.string().min(1).optional(),
  // Passed on as `-t`: @dib/output's parser checks them, so a file and -t accept the same
  // types and refuse the others with the same error.
  types: z.array(z.string().min(1)).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  ramdisk: z.boolean().optional(),
  "debug-trace": z.number().int().min(0).max(2).optional(),
  uncompressed: z.boolean().optional(),
  clear: z.boolean().optional(),
  logfile: z.string().optional(),
  checksum: z.boolean().optional(),
  "image-size": z.number().positive().optional(),
  "image-extra-size": z.number().int().min(0).optional(),
  "image-cache": z.string().optional(),
  "max-online-resize": z.number().int().positive().optional(),
  "min-tmpfs": z.number().int().min(0).optional(),
  "mkfs-journal-size": z.number().int().positive().optional(),
  "mkfs-options": z.string().optional(),
  "no-tmpfs": z.boolean().optional(),
  offline: z.boolean().optional(),
  "qemu-img-options": z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional(),
  "root-label": z.string().optional(),
  "ramdisk-element": z.string().optional(),
  "install-type": z.enum(["source", "package"]).optional(),
  "docker-target": z.string().optional(),
  packages: z.array(z.string()).optional(),
  "skip-base": z.boolean().optional(),
  elements: z.array(z.string()).optional(),
});

export type ImageDefinition = z.infer<typeof imageDefinitionSchema>;

/** A merged definition: it always has a name. */
export type MergedImageDefinition = ImageDefinition & { imagename: string };

/** What one image build is: the build arguments, extra environment, ramdisk mode. */
export interface ImageInvocation {
  imagename: string;
  argv: string[];
  environment: Record<string, string>;
  ramdisk: boolean;
}

/** Parses and validates the text of one image file: a YAML list of definitions. */
export function parseImageFile(text: string, file: string): ImageDefinition[] {
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new DibError("DIB_IMAGE_FILE", `${file} is not valid YAML: ${(error as Error).message}`, {
      file,
    });
  }
  const list = z.array(imageDefinitionSchema).safeParse(value);
  if (!list.success) {
    const issue = list.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    throw new DibError(
      "DIB_IMAGE_FILE",
      `${file}: invalid image definition${where}: ${issue?.message}`,
      {
        hint: "an image file is a YAML list of image definitions; see the dib-cli README for the keys",
        file,
        details: { issues: list.error.issues },
      },
    );
  }
  return list.data;
}

export function readImageFiles(files: readonly string[]): ImageDefinition[] {
  return files.flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new DibError("DIB_IMAGE_FILE", `cannot read image file ${file}`, {
        hint: (error as Error).message,
        file,
      });
    }
    return parseImageFile(text, file);
  });
}

/**
 * DIB's merge rule: a definition without `imagename` continues the previous one (the first
 * defaults to `image`); definitions with the same name merge, lists appending, maps
 * updating and scalars overwriting. Images keep the order their names first appear in.
 */
export function mergeImageDefinitions(
  definitions: readonly ImageDefinition[],
): MergedImageDefinition[] {
  const merged = new Map<string, Record<string, unknown>>();
  let current = "image";
  for (const definition of definitions) {
    current = definition.imagename ?? current;
    const target = merged.get(current) ?? { imagename: current };
    for (const [key, value] of Object.entries(definition)) {
      const existing = target[key];
      if (Array.isArray(existing) && Array.isArray(value)) target[key] = [...existing, ...value];
      else if (isPlainObject(existing) && isPlainObject(value))
        target[key] = { ...existing, ...value };
      else target[key] = value;
    }
    merged.set(current, target);
  }
  return [...merged.values()] as MergedImageDefinition[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The build arguments a merged definition stands for, in DIB's argument order. */
export function imageInvocation(definition: MergedImageDefinition): ImageInvocation {
  const argv: string[] = ["-o", definition.imagename];
  const value = (flag: string, v: string | number | undefined) => {
    if (v !== undefined) argv.push(flag, String(v));
  };
  const flag = (f: string, on: boolean | undefined) => {
    if (on) argv.push(f);
  };
  value("-a", definition.arch);
  if (definition.types?.length) value("-t", definition.types.join(","));
  for (let i = 0; i < (definition["debug-trace"] ?? 0); i++) argv.push("-x");
  flag("-u", definition.uncompressed);
  flag("-c", definition.clear);
  value("--logfile", definition.logfile);
  flag("--checksum", definition.checksum);
  value("--image-size", definition["image-size"]);
  value("--image-extra-size", definition["image-extra-size"]);
  value("--image-cache", definition["image-cache"]);
  value("--max-online-resize", definition["max-online-resize"]);
  value("--min-tmpfs", definition["min-tmpfs"]);
  value("--mkfs-journal-size", definition["mkfs-journal-size"]);
  value("--mkfs-options", definition["mkfs-options"]);
  flag("--no-tmpfs", definition["no-tmpfs"]);
  flag("--offline", definition.offline);
  const qemu = definition["qemu-img-options"];
  if (qemu && Object.keys(qemu).length > 0) {
    value(
      "--qemu-img-options",
      Object.entries(qemu)
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
    );
  }
  value("--root-label", definition["root-label"]);
  value("--ramdisk-element", definition["ramdisk-element"]);
  value("--install-type", definition["install-type"]);
  value("--docker-target", definition["docker-target"]);
  if (definition.packages?.length) value("-p", definition.packages.join(","));
  flag("-n", definition["skip-base"]);
  if (definition.ramdisk) argv.push("--ramdisk");
  const elements = definition.elements ?? [];
  if (elements.length > 0) argv.push("--", ...elements);
  return {
    imagename: definition.imagename,
    argv,
    environment: definition.environment ?? {},
    ramdisk: definition.ramdisk ?? false,
  };
}

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** How an invocation is shown (`--dry-run`, and before each build): `ENV=v … dib-cli build ARGS`. */
export function formatInvocation(invocation: ImageInvocation): string {
  const env = Object.entries(invocation.environment).map(([k, v]) => `${k}=${quote(v)}`);
  return [...env, "dib-cli", "build", ...invocation.argv.map(quote)].join(" ");
}

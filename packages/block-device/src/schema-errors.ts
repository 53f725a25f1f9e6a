import type { ZodError, ZodType } from "zod";
import { blockDeviceConfigError } from "./config-error.js";

/** `[1].partitioning` + ["partitions", 0, "sizee"] → `[1].partitioning.partitions[0].sizee`. */
export function joinPath(origin: string, path: readonly PropertyKey[]): string {
  let out = origin;
  for (const part of path) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}

function acceptedKeys(schema: ZodType<unknown>): string[] | undefined {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  return shape && typeof shape === "object" ? Object.keys(shape) : undefined;
}

/**
 * A schema failure as one config error: every problem with the path to the key in the
 * user's config (an unknown key is usually a typo DIB would silently ignore).
 */
export function schemaError(
  plugin: string,
  entry: Record<string, unknown>,
  origin: string,
  error: ZodError,
  schema: ZodType<unknown>,
  file: string | undefined,
) {
  const problems: { path: string; text: string }[] = [];
  let unknownAtTop = false;
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      if (issue.path.length === 0) unknownAtTop = true;
      for (const key of issue.keys) {
        problems.push({
          path: joinPath(origin, [...issue.path, key]),
          text: `unknown key "${key}"`,
        });
      }
    } else {
      problems.push({ path: joinPath(origin, issue.path), text: issue.message });
    }
  }
  const name = typeof entry.name === "string" ? ` "${entry.name}"` : "";
  const keys = acceptedKeys(schema);
  return blockDeviceConfigError(
    `Config entry ${plugin}${name} is invalid: ${problems.map((p) => `${p.path}: ${p.text}`).join("; ")}`,
    {
      hint:
        unknownAtTop && keys
          ? `${plugin} accepts: ${keys.join(", ")} (check the spelling)`
          : `see the ${plugin} entry at ${origin}`,
      file,
      details: { path: problems[0]?.path, problems },
    },
  );
}

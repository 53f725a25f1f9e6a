import { DibError } from "@dib/errors";
import { type Document, isMap, isNode, isScalar, LineCounter, parseDocument, visit } from "yaml";
import type { z } from "zod";

/**
 * A YAML or JSON file an element ships (package-installs, pkg-map), parsed with positions
 * kept, so that a schema problem can be reported as `file:line`.
 */
export interface DataFile {
  file: string;
  data: unknown;
  /** 1-based line of the value at `path`, or of `key` inside the mapping at `path`. */
  lineOf(path: readonly PropertyKey[], key?: string): number | undefined;
}

/**
 * Parses `text` as JSON first and then as YAML, as DIB does for package-installs; both go
 * through the YAML parser too (JSON is YAML) so positions are known either way.
 */
export function parseDataFile(
  text: string,
  file: string,
  problem: { code: string; hint: string },
): DataFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    const error = doc.errors[0];
    if (error) {
      const line =
        (error.code === "DUPLICATE_KEY" && duplicateKeyLine(doc, lineCounter)) ||
        error.linePos?.[0].line;
      const where = `${file}${line ? `:${line}` : ""}`;
      throw new DibError(problem.code, `${where}: ${firstLine(error.message)}`, {
        file,
        hint: problem.hint,
        details: { line },
      });
    }
    data = doc.toJS();
  }
  return { file, data, lineOf: (path, key) => lineOf(doc, lineCounter, path, key) };
}

function lineOf(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
  key?: string,
): number | undefined {
  // Walk as deep as the path exists: an issue about a missing key points at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true);
    if (!isNode(node)) continue;
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (pair && isNode(pair.key) && pair.key.range)
        return lineCounter.linePos(pair.key.range[0]).line;
    }
    if (node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Turns the first zod issue into a DibError that names the file and line. */
export function schemaError(
  dataFile: DataFile,
  error: z.ZodError,
  code: string,
  hint: string,
  /** Where the validated value sits in the file, when it is not the whole file. */
  at: readonly PropertyKey[] = [],
): DibError {
  const first = error.issues[0];
  const issue = first && { ...first, path: [...at, ...first.path] };
  if (!issue)
    return new DibError(code, `${dataFile.file}: invalid content`, { file: dataFile.file, hint });
  const key = issue.code === "unrecognized_keys" ? issue.keys[0] : undefined;
  const line = dataFile.lineOf(issue.path, key);
  const where = issue.path.length > 0 ? ` at ${issue.path.map(String).join(".")}` : "";
  const what = key !== undefined ? `unknown key '${key}'` : issue.message;
  return new DibError(code, `${dataFile.file}${line ? `:${line}` : ""}: ${what}${where}`, {
    file: dataFile.file,
    hint,
    details: { line, path: issue.path.map(String) },
  });
}

/** The yaml library reports a repeated key at its mapping; point at the repeat instead. */
function duplicateKeyLine(doc: Document, lineCounter: LineCounter): number | undefined {
  let line: number | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key) && isNode(pair.key) && pair.key.range) {
          line = lineCounter.linePos(pair.key.range[0]).line;
          return visit.BREAK;
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  return line;
}

/** The yaml library's message without its position suffix and source excerpt. */
function firstLine(text: string): string {
  return (text.split("\n")[0] ?? text).replace(/ at line \d+, column \d+:?$/, "");
}

import { readFile } from "node:fs/promises";
import { assertElementName } from "./element-name.js";

/**
 * Parses element-deps or element-provides: one element name per line, blank lines and
 * `#` comments ignored. DIB strips only blank lines, so a comment line becomes an element
 * named "# …" that can never be found (a QUIRK we fix).
 */
export function parseElementListFile(text: string, file: string): string[] {
  const names: string[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    assertElementName(line, { file, line: index + 1 });
    if (!names.includes(line)) names.push(line);
  });
  return names;
}

/** Reads an element list file; a missing file is an empty list. */
export async function readElementListFile(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return parseElementListFile(text, file);
}

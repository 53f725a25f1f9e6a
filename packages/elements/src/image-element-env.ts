import { stringify } from "yaml";
import { compareNames } from "./compare-names.js";

interface NamedDir {
  name: string;
  dir: string;
}

/** The variables hooks read to find the elements of the build (§1.3). */
export interface ImageElementVars {
  /** Element names, space-separated, in resolution order. */
  IMAGE_ELEMENT: string;
  /** YAML mapping of name → element folder, keys sorted. */
  IMAGE_ELEMENT_YAML: string;
}

export function imageElementVars(elements: readonly NamedDir[]): ImageElementVars {
  const byName = Object.fromEntries(
    [...elements].sort((a, b) => compareNames(a.name, b.name)).map((e) => [e.name, e.dir]),
  );
  return {
    IMAGE_ELEMENT: elements.map((e) => e.name).join(" "),
    IMAGE_ELEMENT_YAML: stringify(byName, { lineWidth: 0 }),
  };
}

/** Quotes a word for bash when it needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The bash function hooks call as `eval declare -A image_elements=($(get_image_element_array))`
 * (exported with `export -f`). Folder paths are quoted, so a path with spaces survives
 * the eval (DIB's does not).
 */
export function imageElementArrayFunction(elements: readonly NamedDir[]): string {
  const entries = elements.map((e) => `[${shellQuote(e.name)}]=${shellQuote(e.dir)} `).join("");
  return `function get_image_element_array {\n  echo ${shellQuote(entries)}\n};\nexport -f get_image_element_array;\n`;
}

/** What `element-info --env` prints, for `eval` in a shell: the two variables and the function. */
export function elementInfoEnvScript(elements: readonly NamedDir[]): string {
  const vars = imageElementVars(elements);
  return [
    `export IMAGE_ELEMENT=${singleQuote(vars.IMAGE_ELEMENT)}`,
    `export IMAGE_ELEMENT_YAML=${singleQuote(vars.IMAGE_ELEMENT_YAML)}`,
    imageElementArrayFunction(elements),
  ].join("\n");
}

function singleQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { closeNames, discoverElements } from "@dib/elements";
import { DibError } from "@dib/host";

/** Whether `name` is an element dib can see (ELEMENTS_PATH, then installed element packages). */
export async function isKnownElement(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  const catalog = await discoverElements({
    elementsPath: env.ELEMENTS_PATH,
    // discovery searches the node_modules of every folder above these: the current
    // directory's, then dib-cli's own (where the stock element packages are installed)
    searchFrom: [process.cwd(), dirname(fileURLToPath(import.meta.url))],
  });
  return catalog.elements.has(name);
}

/** `hlep` for `help`: two neighbouring letters swapped (one slip of the fingers). */
function isTransposition(a: string, b: string): boolean {
  if (a.length !== b.length || a === b) return false;
  const diff = [...a].flatMap((ch, i) => (ch === b[i] ? [] : [i]));
  const [i, j] = diff;
  return diff.length === 2 && i !== undefined && j === i + 1 && a[i] === b[j] && a[j] === b[i];
}

/**
 * `dib-cli doctr` would build an element named `doctr`: when the first word is a few edits
 * from a subcommand and no element has that name, this is the error to stop with, before
 * anything is built. Undefined when the word is not close to a command or is an element.
 */
export async function commandTypo(
  word: string,
  commands: readonly string[],
  isElement: (name: string) => Promise<boolean> = (name) => isKnownElement(name),
): Promise<DibError | undefined> {
  if (word.startsWith("-") || commands.includes(word)) return undefined;
  const swapped = commands.filter((c) => isTransposition(word, c));
  const close = [...new Set([...swapped, ...closeNames(word, commands, 2)])].slice(0, 2);
  if (close.length === 0 || (await isElement(word))) return undefined;
  const suggestions = close.map((c) => `\`${c}\``).join(" or ");
  return new DibError(
    "DIB_UNKNOWN_COMMAND",
    `unknown command or element "${word}": did you mean ${suggestions}?`,
    {
      hint: `run \`dib-cli ${close[0]}\`; \`dib-cli --help\` lists the commands, \`dib-cli elements list\` the elements`,
      details: { word, suggestions: close },
    },
  );
}

const ADORNMENT = /^([=\-~^"'`#*+:.])\1+\s*$/;

/**
 * The line that says what an element does: the first line of its README that is not a
 * title repeating the element's name, an RST over/underline or a directive.
 */
export function readmeSummary(text: string, name: string): string | undefined {
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || ADORNMENT.test(line) || line.startsWith("..")) continue;
    const heading = line.replace(/^#+\s*/, "");
    if (heading.toLowerCase() === name.toLowerCase() || heading === "") continue;
    return heading;
  }
  return undefined;
}

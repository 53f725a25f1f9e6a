// Terminal control sequences a serial console carries around the text: colours from systemd,
// bash's bracketed-paste toggles (ESC[?2004h / ESC[?2004l), cursor moves from readline.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the escapes we remove
const ESCAPE_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: everything but tab and CR
const OTHER_CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/**
 * What a person would see on one console line: escapes removed and, since a carriage
 * return moves the cursor back to the start, only the text after the last one.
 */
export function cleanConsoleLine(raw: string): string {
  const text = raw.replace(ESCAPE_SEQUENCE, "").replace(/\r+$/, "");
  const lastReturn = text.lastIndexOf("\r");
  const visible = lastReturn === -1 ? text : text.slice(lastReturn + 1);
  return visible.replace(OTHER_CONTROLS, "");
}

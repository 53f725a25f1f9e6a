import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where the kernel's binfmt_misc filesystem is mounted. */
export const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

/** Where Debian's qemu-user-static puts its binfmt definitions (systemd's binfmt.d format). */
export const BINFMT_CONF_DIRS = ["/usr/lib/binfmt.d", "/etc/binfmt.d"] as const;

/**
 * One binfmt_misc definition, as a `binfmt.d` line or the kernel's `register` file takes
 * it: `:name:type:offset:magic:mask:interpreter:flags`. `magic` and `mask` keep their
 * `\xHH` escapes (the kernel decodes them).
 */
export interface BinfmtDefinition {
  name: string;
  type: string;
  offset: string;
  magic: string;
  mask: string;
  interpreter: string;
  flags: string;
}

/** A registered entry, as `/proc/sys/fs/binfmt_misc/NAME` shows it (magic and mask in hex). */
export interface BinfmtEntry {
  name: string;
  enabled: boolean;
  interpreter: string;
  flags: string;
  offset: number;
  magic: string;
  mask: string;
}

/** Parses a `binfmt.d` line; undefined for comments, blank lines and lines of another shape. */
export function parseBinfmtDefinition(line: string): BinfmtDefinition | undefined {
  const text = line.trim();
  if (text === "" || text.startsWith("#") || text.startsWith(";")) return undefined;
  const sep = text[0];
  if (sep === undefined) return undefined;
  const fields = text.slice(1).split(sep);
  if (fields.length < 6) return undefined;
  const [name, type, offset, magic, mask, interpreter, flags] = fields;
  if (!name || !interpreter || (type !== "M" && type !== "E")) return undefined;
  return {
    name,
    type,
    offset: offset ?? "",
    magic: magic ?? "",
    mask: mask ?? "",
    interpreter,
    flags: flags ?? "",
  };
}

/** The line that registers `def` (written to `BINFMT_DIR/register`). */
export function binfmtRegisterLine(def: BinfmtDefinition): string {
  return `:${def.name}:${def.type}:${def.offset}:${def.magic}:${def.mask}:${def.interpreter}:${def.flags}`;
}

/** Parses the kernel's view of one entry. */
export function parseBinfmtEntry(name: string, text: string): BinfmtEntry {
  const lines = text.split("\n");
  const value = (key: string) => {
    const line = lines.find((l) => l.startsWith(`${key} `) || l.startsWith(`${key}:`));
    return line === undefined ? "" : line.slice(key.length).replace(/^:?\s*/, "");
  };
  return {
    name,
    enabled: lines[0]?.trim() === "enabled",
    interpreter: value("interpreter"),
    flags: value("flags"),
    offset: Number(value("offset") || 0),
    magic: value("magic").toLowerCase(),
    mask: value("mask").toLowerCase(),
  };
}

/** `\x7fELF…` as the kernel shows it: lowercase hex, two digits a byte. */
export function binfmtHex(escaped: string): string {
  let hex = "";
  for (let i = 0; i < escaped.length; i++) {
    if (escaped[i] === "\\" && escaped[i + 1] === "x") {
      hex += escaped.slice(i + 2, i + 4).toLowerCase();
      i += 3;
    } else if (escaped[i] === "\\" && escaped[i + 1] === "\\") {
      hex += "5c";
      i += 1;
    } else {
      hex += (escaped.charCodeAt(i) & 0xff).toString(16).padStart(2, "0");
    }
  }
  return hex;
}

/** Whether a registered entry recognises the same executables as a definition. */
export function entryMatches(entry: BinfmtEntry, def: BinfmtDefinition): boolean {
  return (
    entry.magic === binfmtHex(def.magic) &&
    entry.mask === binfmtHex(def.mask) &&
    entry.offset === Number(def.offset || 0)
  );
}

/**
 * Whether an entry makes chroots run the emulator: enabled, and with F ("fix binary": the
 * kernel opened the interpreter at registration, so it need not exist inside the chroot).
 */
export function entryServesChroots(entry: BinfmtEntry): boolean {
  return entry.enabled && entry.flags.includes("F");
}

/** The host's binfmt.d definition for QEMU's user-mode emulator of `qemu` (aarch64, arm …). */
export function findQemuBinfmtDefinition(
  qemu: string,
  dirs: readonly string[] = BINFMT_CONF_DIRS,
): (BinfmtDefinition & { file: string }) | undefined {
  for (const dir of dirs) {
    const file = join(dir, `qemu-${qemu}.conf`);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const def = parseBinfmtDefinition(line);
      if (def) return { ...def, file };
    }
  }
  return undefined;
}

/** Whether binfmt_misc is mounted (its `register` file exists). */
export function binfmtMounted(dir = BINFMT_DIR): boolean {
  return existsSync(join(dir, "register"));
}

/** The entries registered now (empty when binfmt_misc is not mounted). */
export function readBinfmtEntries(dir = BINFMT_DIR): BinfmtEntry[] {
  if (!binfmtMounted(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name !== "register" && name !== "status")
    .flatMap((name) => {
      try {
        return [parseBinfmtEntry(name, readFileSync(join(dir, name), "utf8"))];
      } catch {
        return []; // removed while we read
      }
    });
}

/** Whether binfmt_misc as a whole is switched on (`status`). */
export function binfmtEnabled(dir = BINFMT_DIR): boolean {
  try {
    return readFileSync(join(dir, "status"), "utf8").trim() === "enabled";
  } catch {
    return false;
  }
}

/** What the host offers for running `qemu`'s architecture: its definition and the entries for it. */
export interface ForeignArchSupport {
  qemu: string;
  /** The host's binfmt.d definition (from qemu-user-static), if installed. */
  definition?: BinfmtDefinition & { file: string };
  /** Whether the definition's interpreter exists on the host. */
  interpreterPresent: boolean;
  mounted: boolean;
  /** binfmt_misc switched on (only meaningful when mounted). */
  enabled: boolean;
  /** Registered entries that recognise this architecture's executables. */
  entries: BinfmtEntry[];
  /** An entry that already serves chroots (enabled, F flag, interpreter present). */
  serving?: BinfmtEntry;
}

export function foreignArchSupport(
  qemu: string,
  dirs: { conf?: readonly string[]; binfmt?: string } = {},
): ForeignArchSupport {
  const definition = findQemuBinfmtDefinition(qemu, dirs.conf);
  const binfmt = dirs.binfmt ?? BINFMT_DIR;
  const mounted = binfmtMounted(binfmt);
  const entries = definition
    ? readBinfmtEntries(binfmt).filter((e) => entryMatches(e, definition))
    : [];
  const serving = entries.find((e) => entryServesChroots(e) && existsSync(e.interpreter));
  return {
    qemu,
    ...(definition ? { definition } : {}),
    interpreterPresent: definition ? existsSync(definition.interpreter) : false,
    mounted,
    enabled: mounted && binfmtEnabled(binfmt),
    entries,
    ...(serving ? { serving } : {}),
  };
}

/** Registers a definition with the kernel. */
export function registerBinfmt(def: BinfmtDefinition, dir = BINFMT_DIR): void {
  writeFileSync(join(dir, "register"), binfmtRegisterLine(def));
}

/** Removes an entry; one that is not there is fine. */
export function unregisterBinfmt(name: string, dir = BINFMT_DIR): void {
  const file = join(dir, name);
  if (!existsSync(file)) return;
  try {
    writeFileSync(file, "-1");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  binfmtHex,
  binfmtRegisterLine,
  entryMatches,
  entryServesChroots,
  findQemuBinfmtDefinition,
  foreignArchSupport,
  parseBinfmtDefinition,
  parseBinfmtEntry,
} from "./binfmt.js";

// Debian 12's /usr/lib/binfmt.d/qemu-aarch64.conf and the kernel's view of it.
const AARCH64_CONF =
  ":qemu-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF";
const AARCH64_ENTRY = `enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: POF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
`;

describe("binfmt definitions and entries", () => {
  it("reads a binfmt.d line and writes it back unchanged", () => {
    const def = parseBinfmtDefinition(AARCH64_CONF);
    expect(def).toMatchObject({
      name: "qemu-aarch64",
      type: "M",
      offset: "",
      interpreter: "/usr/libexec/qemu-binfmt/aarch64-binfmt-P",
      flags: "OPF",
    });
    expect(def && binfmtRegisterLine(def)).toBe(AARCH64_CONF);
    expect(parseBinfmtDefinition("# comment")).toBeUndefined();
    expect(parseBinfmtDefinition("")).toBeUndefined();
    expect(parseBinfmtDefinition(":x:Q::a:b:/i:")).toBeUndefined();
  });

  it("reads the kernel's view of an entry", () => {
    expect(parseBinfmtEntry("qemu-aarch64", AARCH64_ENTRY)).toEqual({
      name: "qemu-aarch64",
      enabled: true,
      interpreter: "/usr/libexec/qemu-binfmt/aarch64-binfmt-P",
      flags: "POF",
      offset: 0,
      magic: "7f454c460201010000000000000000000200b700",
      mask: "ffffffffffffff00fffffffffffffffffeffffff",
    });
    expect(parseBinfmtEntry("x", "disabled\ninterpreter /q\nflags: \n").enabled).toBe(false);
  });

  it("matches an entry to a definition by magic, mask and offset, whatever its name", () => {
    const def = parseBinfmtDefinition(AARCH64_CONF);
    if (!def) throw new Error("no definition");
    expect(binfmtHex("\\x7fELF")).toBe("7f454c46");
    const entry = parseBinfmtEntry("some-other-name", AARCH64_ENTRY);
    expect(entryMatches(entry, def)).toBe(true);
    expect(entryMatches({ ...entry, magic: entry.magic.replace("b700", "2800") }, def)).toBe(false);
    expect(entryServesChroots(entry)).toBe(true);
    expect(entryServesChroots({ ...entry, flags: "P" })).toBe(false);
    expect(entryServesChroots({ ...entry, enabled: false })).toBe(false);
  });
});

describe("foreignArchSupport", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "dib-binfmt-"));
    mkdirSync(join(dir, "conf"));
    mkdirSync(join(dir, "proc"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("says what is missing: the definition, the mount, an entry", () => {
    const dirs = { conf: [join(dir, "conf")], binfmt: join(dir, "proc") };
    expect(foreignArchSupport("aarch64", dirs)).toMatchObject({
      mounted: false,
      interpreterPresent: false,
      entries: [],
    });
    expect(foreignArchSupport("aarch64", dirs).definition).toBeUndefined();

    const interpreter = join(dir, "qemu-aarch64-static");
    writeFileSync(interpreter, "");
    writeFileSync(
      join(dir, "conf", "qemu-aarch64.conf"),
      `# from qemu-user-static\n${AARCH64_CONF.replace("/usr/libexec/qemu-binfmt/aarch64-binfmt-P", interpreter)}\n`,
    );
    expect(findQemuBinfmtDefinition("aarch64", dirs.conf)?.file).toBe(
      join(dir, "conf", "qemu-aarch64.conf"),
    );
    writeFileSync(join(dir, "proc", "register"), "");
    writeFileSync(join(dir, "proc", "status"), "enabled\n");
    let support = foreignArchSupport("aarch64", dirs);
    expect(support).toMatchObject({ mounted: true, enabled: true, interpreterPresent: true });
    expect(support.serving).toBeUndefined();

    writeFileSync(
      join(dir, "proc", "qemu-aarch64"),
      AARCH64_ENTRY.replace("/usr/libexec/qemu-binfmt/aarch64-binfmt-P", interpreter),
    );
    support = foreignArchSupport("aarch64", dirs);
    expect(support.entries.map((e) => e.name)).toEqual(["qemu-aarch64"]);
    expect(support.serving?.name).toBe("qemu-aarch64");
  });
});

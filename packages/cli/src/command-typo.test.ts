import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandTypo, isKnownElement } from "./command-typo.js";

const COMMANDS = ["build", "boot-test", "doctor", "cleanup", "elements", "block-device"];
const noElement = async () => false;

describe("commandTypo", () => {
  it("suggests the subcommand a word is a few edits from", async () => {
    const error = await commandTypo("doctr", COMMANDS, noElement);
    expect(error).toMatchObject({
      code: "DIB_UNKNOWN_COMMAND",
      message: 'unknown command or element "doctr": did you mean `doctor`?',
    });
    expect((await commandTypo("clenaup", COMMANDS, noElement))?.message).toMatch(
      /did you mean `cleanup`\?$/,
    );
    expect((await commandTypo("boot-tset", COMMANDS, noElement))?.message).toMatch(
      /did you mean `boot-test`\?$/,
    );
    expect((await commandTypo("hlep", [...COMMANDS, "help"], noElement))?.message).toMatch(
      /did you mean `help`\?$/,
    );
  });

  it("leaves a word alone that is an element, far from every command, or an option", async () => {
    expect(await commandTypo("doctr", COMMANDS, async (name) => name === "doctr")).toBeUndefined();
    expect(await commandTypo("debian-minimal", COMMANDS, noElement)).toBeUndefined();
    expect(await commandTypo("vm", COMMANDS, noElement)).toBeUndefined();
    expect(await commandTypo("-o", COMMANDS, noElement)).toBeUndefined();
    expect(await commandTypo("doctor", COMMANDS, noElement)).toBeUndefined();
  });
});

describe("isKnownElement", () => {
  it("sees the stock elements and those on ELEMENTS_PATH", async () => {
    expect(await isKnownElement("vm", {})).toBe(true);
    expect(await isKnownElement("doctr", {})).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), "dib-typo-elements-"));
    try {
      mkdirSync(join(dir, "doctr"));
      expect(await isKnownElement("doctr", { ELEMENTS_PATH: dir })).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

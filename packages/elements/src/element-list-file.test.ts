import { describe, expect, it } from "vitest";
import { parseElementListFile } from "./element-list-file.js";
import { isElementName } from "./element-name.js";

describe("parseElementListFile", () => {
  it("reads one name per line, ignoring blanks, # comments and repeats", () => {
    expect(parseElementListFile("a\n\n# not an element\n  b  \na\n#c\n", "element-deps")).toEqual([
      "a",
      "b",
    ]);
  });

  it("names the file and line of a bad name", () => {
    expect(() => parseElementListFile("ok\nfoo bar\n", "/x/element-deps")).toThrow(
      expect.objectContaining({
        code: "DIB_ELEMENT_NAME_INVALID",
        message: "/x/element-deps:2: 'foo bar' is not a valid element name",
        file: "/x/element-deps",
      }),
    );
  });
});

describe("isElementName", () => {
  it.each(["grub2", "block-device-efi", "provides_virtual", "dib.python", "@odd"])(
    "accepts %s",
    (name) => {
      expect(isElementName(name)).toBe(true);
    },
  );
  it.each(["", ".", "..", "../x", "a/b", "a..b", "tab\there", "new\nline"])(
    "rejects %j",
    (name) => {
      expect(isElementName(name)).toBe(false);
    },
  );
});

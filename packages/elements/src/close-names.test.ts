import { describe, expect, it } from "vitest";
import { closeNames, editDistance } from "./close-names.js";

describe("closeNames", () => {
  it("measures edits", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("grub2", "grub2")).toBe(0);
  });

  it("suggests typos first, then names the input starts, at most three", () => {
    const names = ["debian-minimal", "debian", "debootstrap", "ubuntu", "ubuntu-minimal", "dpkg"];
    expect(closeNames("debain", names)).toEqual(["debian"]);
    expect(closeNames("debian-minmal", names)).toEqual(["debian-minimal"]);
    expect(closeNames("ubunt", names)).toEqual(["ubuntu", "ubuntu-minimal"]);
    expect(closeNames("zzzzzz", names)).toEqual([]);
  });
});

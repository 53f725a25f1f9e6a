import { describe, expect, it } from "vitest";
import { readmeSummary } from "./readme-summary.js";

describe("readmeSummary", () => {
  it("skips an RST title that repeats the element name", () => {
    expect(readmeSummary("=====\ngrub2\n=====\n\nInstalls GRUB 2.\n", "grub2")).toBe(
      "Installs GRUB 2.",
    );
  });

  it("skips a Markdown title that repeats the name, keeps a descriptive one", () => {
    expect(readmeSummary("# vm\n\nA partitioned disk image.\n", "vm")).toBe(
      "A partitioned disk image.",
    );
    expect(readmeSummary("# Minimal Debian\n\nmore\n", "debian-minimal")).toBe("Minimal Debian");
  });

  it("has nothing to say about an empty README", () => {
    expect(readmeSummary("\n\n", "x")).toBeUndefined();
  });
});

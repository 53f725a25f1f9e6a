import { describe, expect, it } from "vitest";
import { parseBuildOptions } from "./build-options.js";

const base = { elements: ["x"], imageCache: "/c", lockfilesDir: "/l", cwd: "/w" };
const name = (imageName: string, imageTypes?: string[]) =>
  parseBuildOptions({ ...base, imageName, ...(imageTypes ? { imageTypes } : {}) }).imageName;

describe("parseBuildOptions", () => {
  it("strips a trailing .type from -o only when exactly one type is asked for", () => {
    expect(name("foo.qcow2", ["qcow2"])).toBe("foo");
    expect(name("foo.qcow2")).toBe("foo");
    expect(name("foo.qcow2", ["qcow2", "tar"])).toBe("foo.qcow2");
    expect(name("foo.tar", ["qcow2"])).toBe("foo.tar");
  });

  it("strips one suffix, once: -o foo.qcow2.qcow2 -t qcow2 is foo.qcow2", () => {
    expect(name("foo.qcow2.qcow2", ["qcow2"])).toBe("foo.qcow2");
  });

  it("checks -t and DIB_CHECKSUM with @dib/output's parsers", () => {
    const parsed = parseBuildOptions({
      ...base,
      imageTypes: ["tar", "tar"],
      checksums: ["SHA256"],
    });
    expect(parsed.imageTypes).toEqual(["tar"]);
    expect(parsed.checksums).toEqual(["sha256"]);
    expect(() => parseBuildOptions({ ...base, imageTypes: ["aci"] })).toThrow(
      expect.objectContaining({ code: "DIB_OUTPUT_UNKNOWN_TYPE" }),
    );
    expect(() => parseBuildOptions({ ...base, checksums: ["sha1"] })).toThrow(
      expect.objectContaining({ code: "DIB_OUTPUT_CHECKSUM" }),
    );
  });
});

import { describe, expect, it } from "vitest";
import { mountPointProblem } from "./mount-point.js";

describe("mountPointProblem", () => {
  it("accepts absolute, normalised mount points and none", () => {
    for (const ok of ["/", "/boot", "/boot/efi", "/var/log", "/srv/a..b", "/.hidden", "none"]) {
      expect(mountPointProblem(ok), ok).toBeUndefined();
    }
  });

  it("refuses a relative mount point", () => {
    expect(mountPointProblem("relative/dir")).toBe(
      "mount point [relative/dir] is not an absolute path: write it from the image's /, e.g. /relative/dir",
    );
    expect(mountPointProblem("./boot")).toBe(
      "mount point [./boot] is not an absolute path: write it from the image's /, e.g. /boot",
    );
    expect(mountPointProblem("")).toMatch(/^mount point \[\] is not an absolute path/);
  });

  it("refuses .. anywhere", () => {
    expect(mountPointProblem("/../../../hostdir")).toBe(
      'mount point [/../../../hostdir] contains "..": it must name a directory inside the image',
    );
    expect(mountPointProblem("/boot/..")).toMatch(/contains "\.\."/);
  });

  it("refuses a path that is not normalised", () => {
    expect(mountPointProblem("/boot/")).toBe(
      "mount point [/boot/] is not normalised: write it as /boot",
    );
    expect(mountPointProblem("//boot/./efi")).toBe(
      "mount point [//boot/./efi] is not normalised: write it as /boot/efi",
    );
  });
});

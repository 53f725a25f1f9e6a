import { mkdtempSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkOutputSpace, estimateOutputBytes, outputSpaceWarning } from "./output-space.js";

describe("estimateOutputBytes", () => {
  it("counts an uncompressed output as the whole tree and a compressed one as a quarter", () => {
    expect(estimateOutputBytes({ types: ["raw"], treeKiB: 1024, compress: true })).toBe(2 ** 20);
    expect(estimateOutputBytes({ types: ["qcow2"], treeKiB: 1024, compress: true })).toBe(2 ** 18);
    expect(estimateOutputBytes({ types: ["qcow2"], treeKiB: 1024, compress: false })).toBe(2 ** 20);
    expect(estimateOutputBytes({ types: ["tar", "tgz"], treeKiB: 1024, compress: true })).toBe(
      2 ** 20 + 2 ** 18,
    );
  });

  it("leaves docker out (it may go into an engine) and ignores unknown names", () => {
    expect(estimateOutputBytes({ types: ["docker", "nope"], treeKiB: 1024, compress: true })).toBe(
      0,
    );
  });
});

describe("checkOutputSpace", () => {
  it("reports a shortfall against the free space of the nearest existing directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "dib-output-space-"));
    try {
      const s = statfsSync(dir);
      const freeKiB = (s.bavail * s.bsize) / 1024;
      const name = join(dir, "not", "made", "yet", "image");
      expect(
        checkOutputSpace(name, { types: ["raw"], treeKiB: 1, compress: true }),
      ).toBeUndefined();
      const check = checkOutputSpace(name, {
        types: ["raw"],
        treeKiB: freeKiB * 2,
        compress: true,
      });
      expect(check?.directory).toBe(join(dir, "not", "made", "yet"));
      expect(check?.neededBytes).toBeGreaterThan(check?.freeBytes ?? 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says where, how much is free, what the outputs need and that ENOSPC follows", () => {
    expect(
      outputSpaceWarning(
        { directory: "/out", freeBytes: 182 * 2 ** 20, neededBytes: 300 * 2 ** 20 },
        ["qcow2"],
      ),
    ).toBe(
      '/out has 182.0 MiB free, but the qcow2 output of this image needs at least 300.0 MiB: writing it will fail with "No space left on device" (ENOSPC) unless space is freed there (or use -o elsewhere)',
    );
  });
});

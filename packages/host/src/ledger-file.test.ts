import { describe, expect, it } from "vitest";
import { describeResource, heldInUndoOrder, parseLedger } from "./ledger-file.js";

const lines = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join("\n");

describe("ledger file", () => {
  it("pairs acquire, ready and release records by sequence number", () => {
    const entries = parseLedger(
      lines(
        { seq: 1, op: "acquire", resource: { kind: "loop", file: "/b/img.raw" }, pid: 7, at: "t" },
        { seq: 1, op: "ready", detail: { device: "/dev/loop3" } },
        { seq: 2, op: "acquire", resource: { kind: "mount", target: "/b/mnt" }, pid: 7, at: "t" },
        { seq: 2, op: "ready", detail: {} },
        { seq: 2, op: "release" },
      ),
    );
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      seq: 1,
      detail: { device: "/dev/loop3" },
      released: false,
      pid: 7,
    });
    expect(entries[1]).toMatchObject({ seq: 2, released: true });
  });

  it("keeps a half-created resource (acquired, never ready) so undo can look for it", () => {
    const entries = parseLedger(
      lines({
        seq: 1,
        op: "acquire",
        resource: { kind: "loop", file: "/b/img.raw" },
        pid: 7,
        at: "t",
      }),
    );
    expect(entries[0]?.detail).toBeUndefined();
    expect(heldInUndoOrder(entries)).toHaveLength(1);
  });

  it("ignores a torn last line left by a process killed mid-write", () => {
    const text = `${lines({ seq: 1, op: "acquire", resource: { kind: "chroot", root: "/b/mnt" }, pid: 1, at: "t" })}\n{"seq":2,"op":"acq`;
    expect(parseLedger(text)).toHaveLength(1);
  });

  it("releases newest first and skips what is already released", () => {
    const entries = parseLedger(
      lines(
        { seq: 1, op: "acquire", resource: { kind: "loop", file: "/b/i" }, pid: 1, at: "t" },
        { seq: 2, op: "acquire", resource: { kind: "mount", target: "/b/m" }, pid: 1, at: "t" },
        {
          seq: 3,
          op: "acquire",
          resource: { kind: "mount", target: "/b/m/proc" },
          pid: 1,
          at: "t",
        },
        { seq: 3, op: "release" },
        { seq: 4, op: "acquire", resource: { kind: "chroot", root: "/b/m" }, pid: 1, at: "t" },
      ),
    );
    expect(heldInUndoOrder(entries).map((e) => e.seq)).toEqual([4, 2, 1]);
  });

  it("ignores records for sequence numbers it never saw acquired", () => {
    expect(parseLedger(lines({ seq: 9, op: "release" }))).toEqual([]);
  });

  it("describes resources in words a person reads in an error", () => {
    expect(describeResource({ kind: "loop", file: "/b/i.raw", offset: 1048576 })).toBe(
      "loop device on /b/i.raw at offset 1048576",
    );
    expect(describeResource({ kind: "mount", target: "/b/mnt" })).toBe("mount at /b/mnt");
  });
});

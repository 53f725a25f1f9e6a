import { describe, expect, it } from "vitest";
import { type OutputStep, planOutputs, planSteps } from "./plan.js";
import { qemuImgConvertArgv } from "./qemu-img.js";
import { mksquashfsArgv } from "./squashfs.js";
import { treeExclusions } from "./tree-exclusions.js";
import { treeTarArgv } from "./tree-tar.js";
import { vhdUtilCommands } from "./vhd-util.js";

function only<V extends OutputStep["via"]>(
  types: string[],
  via: V,
  extra = {},
): Extract<OutputStep, { via: V }> {
  const found = planSteps(planOutputs(types, { imageName: "img", hasDisk: true, ...extra })).find(
    (s) => s.via === via,
  );
  if (!found) throw new Error(`no ${via} step`);
  return found as Extract<OutputStep, { via: V }>;
}

describe("converter commands", () => {
  it("runs qemu-img convert with -c for qcow2 and -o for the options", () => {
    expect(
      qemuImgConvertArgv(only(["qcow2"], "qemu-img", { qemuImgOptions: "compat=1.1" }), "/b/raw"),
    ).toEqual([
      "qemu-img",
      "convert",
      "-m",
      "8",
      "-W",
      "-c",
      "-f",
      "raw",
      "-O",
      "qcow2",
      "-o",
      "compat=1.1",
      "/b/raw",
      "img.qcow2-new",
    ]);
    expect(
      qemuImgConvertArgv(only(["qcow2"], "qemu-img", { compress: false }), "/b/raw"),
    ).not.toContain("-c");
    expect(qemuImgConvertArgv(only(["vhd"], "qemu-img"), "/b/raw")).toEqual([
      "qemu-img",
      "convert",
      "-m",
      "8",
      "-W",
      "-f",
      "raw",
      "-O",
      "vpc",
      "/b/raw",
      "img.vhd-new",
    ]);
  });

  it("adds compression_type to qcow2 only, when DIB_QCOW2_COMPRESSION_TYPE asks for it", () => {
    const opts = { qemuImgOptions: "compat=1.1", qcow2CompressionType: "zstd" };
    expect(qemuImgConvertArgv(only(["qcow2"], "qemu-img", opts), "/b/raw")).toContain(
      "compat=1.1,compression_type=zstd",
    );
    expect(
      qemuImgConvertArgv(only(["qcow2"], "qemu-img", { qcow2CompressionType: "zstd" }), "/b/raw"),
    ).toContain("compression_type=zstd");
    expect(qemuImgConvertArgv(only(["vmdk"], "qemu-img", opts), "/b/raw")).toContain("compat=1.1");
    expect(qemuImgConvertArgv(only(["vmdk"], "qemu-img", opts), "/b/raw").join(" ")).not.toContain(
      "compression_type",
    );
    expect(() => only(["qcow2"], "qemu-img", { qcow2CompressionType: "lz4" })).toThrow(
      /DIB_QCOW2_COMPRESSION_TYPE=lz4 is not a qcow2 compression type/,
    );
  });

  it("makes a vhd with vhd-util as DIB does: copy, fixed in place, then dynamic", () => {
    expect(vhdUtilCommands(only(["vhd"], "vhd-util", { vhdUtil: true }), "/b/raw")).toEqual([
      ["cp", "--sparse=always", "/b/raw", "img.vhd-intermediate"],
      [
        "vhd-util",
        "convert",
        "-s",
        "0",
        "-t",
        "1",
        "-i",
        "img.vhd-intermediate",
        "-o",
        "img.vhd-intermediate",
      ],
      [
        "vhd-util",
        "convert",
        "-s",
        "1",
        "-t",
        "2",
        "-i",
        "img.vhd-intermediate",
        "-o",
        "img.vhd-new",
      ],
    ]);
  });

  it("tars the tree sorted, with numeric owners, xattrs and ACLs, keeping proc and sys empty", () => {
    expect(treeTarArgv("/b/mnt", treeExclusions("/b/mnt", []))).toEqual([
      "tar",
      "--sort=name",
      "--numeric-owner",
      "--xattrs",
      "--xattrs-include=*",
      "--acls",
      "--exclude=./proc/*",
      "--exclude=./sys/*",
      "-C",
      "/b/mnt",
      "-cf",
      "-",
      ".",
    ]);
  });

  it("squashes the tree with xz by default and the same exclusions", () => {
    expect(
      mksquashfsArgv(only(["squashfs"], "mksquashfs"), "/b/mnt", treeExclusions("/b/mnt", [])),
    ).toEqual([
      "mksquashfs",
      "/b/mnt",
      "img.squash-new",
      "-comp",
      "xz",
      "-noappend",
      "-no-recovery",
      "-no-progress",
      "-wildcards",
      "-e",
      "proc/*",
      "-e",
      "sys/*",
    ]);
    expect(
      mksquashfsArgv({ ...only(["squashfs"], "mksquashfs"), compressor: "zstd" }, "/t", []).slice(
        3,
        5,
      ),
    ).toEqual(["-comp", "zstd"]);
  });
});

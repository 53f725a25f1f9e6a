import { isDibError } from "@dib/host";
import { describe, expect, it } from "vitest";
import { describeOutputPlan } from "./describe-plan.js";
import { KNOWN_OUTPUT_TYPES } from "./output-types.js";
import { type OutputPlan, type OutputStep, planOutputs, planSteps } from "./plan.js";

const base = { imageName: "out/image", hasDisk: true };

function step(plan: OutputPlan, type: string): OutputStep {
  const found = planSteps(plan).find((s) => s.type === type);
  if (!found) throw new Error(`no ${type} step in the plan`);
  return found;
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

describe("planOutputs", () => {
  it("makes a qcow2 when -t is empty, as DIB's default", () => {
    const plan = planOutputs([], base);
    expect(plan.types).toEqual(["qcow2"]);
    expect(step(plan, "qcow2")).toMatchObject({
      file: "out/image.qcow2",
      temp: "out/image.qcow2-new",
    });
  });

  it("names every output NAME.<type>, squashfs as NAME.squash like DIB", () => {
    const plan = planOutputs(
      ["qcow2", "raw", "vhd", "vmdk", "vdi", "tar", "tgz", "squashfs", "oci", "docker"],
      { ...base, dockerTarget: "img:1" },
    );
    const files = Object.fromEntries(
      planSteps(plan).map((s) => [s.type, "file" in s ? s.file : undefined]),
    );
    expect(files).toEqual({
      qcow2: "out/image.qcow2",
      raw: "out/image.raw",
      vhd: "out/image.vhd",
      vmdk: "out/image.vmdk",
      vdi: "out/image.vdi",
      tar: "out/image.tar",
      tgz: "out/image.tgz",
      squashfs: "out/image.squash",
      oci: "out/image.oci",
      docker: "out/image.docker",
    });
  });

  it("builds squashfs wherever it stands in -t (DIB only built it when first)", () => {
    for (const types of [
      ["squashfs", "qcow2"],
      ["qcow2", "squashfs"],
      ["tar", "qcow2", "squashfs"],
    ]) {
      const plan = planOutputs(types, base);
      expect(step(plan, "squashfs")).toMatchObject({ via: "mksquashfs", file: "out/image.squash" });
    }
  });

  it("keeps the tar when both tar and tgz are asked for, from one tree pass", () => {
    const plan = planOutputs(["tar", "tgz"], base);
    expect(plan.stages).toHaveLength(1);
    expect(plan.stages[0]?.steps.map((s) => [s.type, s.input])).toEqual([
      ["tar", "tar-stream"],
      ["tgz", "tar-stream"],
    ]);
  });

  it("compresses qcow2 whatever the order of -t, and never the other formats", () => {
    for (const types of [
      ["vhd", "qcow2"],
      ["qcow2", "vhd"],
      ["raw", "vmdk", "qcow2"],
    ]) {
      const plan = planOutputs(types, base);
      expect(step(plan, "qcow2")).toMatchObject({ compress: true });
      for (const s of planSteps(plan))
        if (s.type !== "qcow2" && "compress" in s) expect(s.compress).toBe(false);
    }
    expect(
      step(planOutputs(["vhd", "qcow2"], { ...base, compress: false }), "qcow2"),
    ).toMatchObject({
      compress: false,
    });
  });

  it("runs the tree outputs first, the disk conversions next and the raw image last", () => {
    const plan = planOutputs(["raw", "qcow2", "tar", "vhd"], base);
    expect(plan.stages.map((s) => [s.name, s.steps.map((x) => x.type)])).toEqual([
      ["tree", ["tar"]],
      ["disk", ["qcow2", "vhd"]],
      ["raw", ["raw"]],
    ]);
  });

  it("moves the raw image", () => {
    expect(step(planOutputs(["raw"], base), "raw")).toMatchObject({ via: "move" });
  });

  it("converts vhd with qemu-img's vpc format, or with vhd-util when it is installed", () => {
    expect(step(planOutputs(["vhd"], base), "vhd")).toMatchObject({
      via: "qemu-img",
      format: "vpc",
    });
    const withVhdUtil = planOutputs(["vhd"], { ...base, vhdUtil: true });
    expect(step(withVhdUtil, "vhd")).toMatchObject({ via: "vhd-util", file: "out/image.vhd" });
    expect(withVhdUtil.tools).toEqual(["vhd-util"]);
  });

  it("passes --qemu-img-options to every qemu-img conversion", () => {
    const plan = planOutputs(["qcow2", "vmdk"], { ...base, qemuImgOptions: "compat=0.10" });
    expect(step(plan, "qcow2")).toMatchObject({ qemuImgOptions: "compat=0.10" });
    expect(step(plan, "vmdk")).toMatchObject({ qemuImgOptions: "compat=0.10" });
  });

  it("refuses -t docker without --docker-target, with DIB's message", () => {
    const error = caught(() => planOutputs(["docker"], base));
    expect(isDibError(error, "DIB_OUTPUT_DOCKER_TARGET")).toBe(true);
    expect((error as Error).message).toBe("Please set --docker-target.");
  });

  it("imports into a reachable docker engine, and writes a docker-archive without one", () => {
    const engine = planOutputs(["docker"], {
      ...base,
      dockerTarget: "team/img:2.0",
      dockerEngine: true,
    });
    expect(step(engine, "docker")).toEqual({
      type: "docker",
      input: "tar-stream",
      via: "docker-import",
      image: { repository: "team/img", tag: "2.0", reference: "team/img:2.0" },
    });
    expect(engine.tools).toEqual(["tar", "docker"]);
    const archive = planOutputs(["docker"], { ...base, dockerTarget: "team/img", arch: "arm64" });
    expect(step(archive, "docker")).toMatchObject({
      via: "docker-archive",
      file: "out/image.docker",
      image: { reference: "team/img:latest" },
      platform: { architecture: "arm64", os: "linux", variant: "v8" },
    });
    expect(archive.tools).toEqual(["tar"]);
  });

  it("names the OCI image after the image when there is no --docker-target", () => {
    const plan = planOutputs(["oci"], { imageName: "out/My Image", hasDisk: false });
    expect(step(plan, "oci")).toMatchObject({
      via: "oci-archive",
      image: { reference: "my-image:latest", tag: "latest" },
      gzip: ["gzip"],
    });
  });

  it("runs DIB_GZIP_BIN with its arguments for tgz and the OCI layer", () => {
    const plan = planOutputs(["tgz", "oci"], { ...base, gzipBin: "pigz -p 2" });
    expect(step(plan, "tgz")).toMatchObject({ gzip: ["pigz", "-p", "2"] });
    expect(plan.tools).toEqual(["tar", "pigz"]);
  });

  it("rejects an unknown type and lists the known ones", () => {
    const error = caught(() => planOutputs(["qcow2", "iso", "ami"], base));
    expect(isDibError(error, "DIB_OUTPUT_UNKNOWN_TYPE")).toBe(true);
    expect((error as Error).message).toBe("unknown output types: iso, ami");
    expect((error as { hint: string }).hint).toContain(
      `known types: ${KNOWN_OUTPUT_TYPES.join(", ")}`,
    );
  });

  it("explains that aci is retired", () => {
    const error = caught(() => planOutputs(["aci"], base));
    expect((error as { hint: string }).hint).toContain("-t oci");
  });

  it("drops repeated types and keeps the order they were given in", () => {
    expect(planOutputs(["tar", "qcow2", "tar"], base).types).toEqual(["tar", "qcow2"]);
  });

  it("refuses disk types when there is no disk image, and tree types when there is no tree", () => {
    expect(
      isDibError(
        caught(() => planOutputs(["qcow2", "tar"], { ...base, hasDisk: false })),
        "DIB_OUTPUT_NEEDS_DISK",
      ),
    ).toBe(true);
    expect(
      isDibError(
        caught(() => planOutputs(["tar"], { ...base, hasTree: false })),
        "DIB_OUTPUT_NEEDS_TREE",
      ),
    ).toBe(true);
    expect(planOutputs(["qcow2"], { ...base, hasTree: false }).types).toEqual(["qcow2"]);
  });

  it("parses the checksum setting into the algorithms to write", () => {
    expect(planOutputs([], { ...base, checksum: "1" }).checksums).toEqual(["md5", "sha256"]);
    expect(planOutputs([], { ...base, checksum: "sha256" }).checksums).toEqual(["sha256"]);
    expect(planOutputs([], base).checksums).toEqual([]);
  });

  it("lists the host tools the plan runs", () => {
    const plan = planOutputs(["qcow2", "tgz", "squashfs", "raw"], base);
    expect(plan.tools.sort()).toEqual(["gzip", "mksquashfs", "qemu-img", "tar"]);
  });

  it("rejects an empty image name or a bare directory", () => {
    expect(
      isDibError(
        caught(() => planOutputs([], { ...base, imageName: "" })),
        "DIB_OUTPUT_IMAGE_NAME",
      ),
    ).toBe(true);
    expect(
      isDibError(
        caught(() => planOutputs([], { ...base, imageName: "out/" })),
        "DIB_OUTPUT_IMAGE_NAME",
      ),
    ).toBe(true);
  });

  it("is plain data that survives JSON", () => {
    const plan = planOutputs(["qcow2", "tar", "docker"], {
      ...base,
      dockerTarget: "a:b",
      checksum: true,
    });
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});

describe("describeOutputPlan", () => {
  it("prints each stage, each file and the command that makes it", () => {
    const lines = describeOutputPlan(
      planOutputs(["raw", "qcow2", "tgz"], { ...base, checksum: "1" }),
    );
    expect(lines).toContain("  qcow2    out/image.qcow2");
    expect(lines).toContain(
      "           qemu-img convert -m 8 -W -c -f raw -O qcow2 '<raw>' out/image.qcow2-new",
    );
    expect(lines.some((l) => l.includes("tar --sort=name --numeric-owner"))).toBe(true);
    expect(lines.at(-2)).toBe("checksums: .md5 .sha256 beside every file");
    expect(lines.findIndex((l) => l.startsWith("tree:"))).toBeLessThan(
      lines.findIndex((l) => l.startsWith("raw:")),
    );
  });
});

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { findTool } from "@dib/host";
import { afterEach, describe, expect, it } from "vitest";
import { layoutCases, partitioningFixture } from "./__fixtures__/conformance.js";
import { partxRows, sparseDisk } from "./__fixtures__/sparse-disk.js";
import { applyDiskWrites } from "./disk-writes.js";
import { planGpt, sgdiskArgv } from "./gpt-plan.js";
import { planMbr } from "./mbr-plan.js";
import { mbrWrites } from "./mbr-writer.js";
import { type PartitionLayout, planPartitionLayout } from "./partition-layout.js";
import type { PartitioningConfig } from "./schema.js";

const run = promisify(execFile);
const cases = layoutCases();
const mbrCases = cases.filter((c) => c.partx_raw_NR_START_END_TYPE_FLAGS_SCHEME);
const gptCases = cases.filter((c) => c.exec_sudo_calls[0]?.[0] === "sgdisk");

/** A planned MBR layout in the fixtures' partx row format. */
function asPartxRows(layout: PartitionLayout): string[] {
  const rows = layout.partitions.map((p) => ({
    ...p,
    boot: p.flags.includes("boot") ? "0x80" : "0x0",
    type: `0x${Number.parseInt(p.type, 16).toString(16)}`,
  }));
  if (layout.extended)
    rows.push({ ...layout.extended, name: "", flags: [], boot: "0x0", type: "0xf" });
  return rows
    .sort((a, b) => a.number - b.number)
    .map((p) => `${p.number} ${p.start} ${p.end} ${p.type} ${p.boot} dos`);
}

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

describe("MBR layouts of DIB's configs", () => {
  it.each(mbrCases.map((c) => [c.config.split("/").slice(-2).join("/"), c] as const))(
    "plans %s as DIB lays it out",
    (_, c) => {
      const layout = planPartitionLayout(partitioningFixture(c.config), c.disk_size_bytes);
      expect(layout.label).toBe("mbr");
      expect(asPartxRows(layout)).toEqual(c.partx_raw_NR_START_END_TYPE_FLAGS_SCHEME);
    },
  );

  it.each(mbrCases.map((c) => [c.config.split("/").slice(-2).join("/"), c] as const))(
    "writes %s so that partx reads DIB's table",
    (_, c) => {
      const config = partitioningFixture(c.config);
      const disk = sparseDisk(c.disk_size_bytes);
      cleanup.push(disk.remove);
      applyDiskWrites(disk.path, mbrWrites(planMbr(config, c.disk_size_bytes), 0xdeadbeef));
      expect(partxRows(disk.path)).toEqual(c.partx_raw_NR_START_END_TYPE_FLAGS_SCHEME);
    },
  );

  it("leaves DIB's last alignment unit unused behind a 100% primary partition", () => {
    const config: PartitioningConfig = {
      base: "image0",
      label: "mbr",
      partitions: [{ name: "root", size: "100%", flags: ["primary"] }],
    };
    const layout = planPartitionLayout(config, 2 * 1024 ** 3);
    expect(layout.partitions[0]?.end).toBe((2 * 1024 ** 3) / 512 - 2048 - 1);
  });

  it("names a partitioning without a name as the tree conversion does", () => {
    const config: PartitioningConfig = { base: "image0", label: "mbr", partitions: [] };
    expect(planPartitionLayout(config, 1024 ** 3).name).toBe("partitioning_image0");
  });
});

describe("GPT layouts of DIB's configs", () => {
  it.each(gptCases.map((c) => [c.config.split("/").slice(-2).join("/"), c] as const))(
    "runs DIB's exact sgdisk command for %s",
    (_, c) => {
      const config = partitioningFixture(c.config);
      expect(sgdiskArgv(planGpt(config, c.disk_size_bytes), "/dev/loopX")).toEqual(
        c.exec_sudo_calls[0],
      );
    },
  );

  it("plans gpt_efi on 1 GiB where sgdisk puts it", () => {
    const c = gptCases.find((g) => g.config.endsWith("gpt_efi.yaml"));
    const layout = planPartitionLayout(partitioningFixture(c?.config ?? ""), 1024 ** 3);
    expect(layout).toEqual({
      name: "partitioning_image0",
      label: "gpt",
      sectorSize: 512,
      partitions: [
        { name: "ESP", number: 1, start: 2048, end: 18431, type: "EF00", flags: [] },
        { name: "BSP", number: 2, start: 18432, end: 34815, type: "EF02", flags: [] },
        {
          name: "Root Part",
          number: 3,
          start: 34816,
          end: 34816 + 1006 * 2048 - 1,
          type: "8300",
          flags: [],
        },
      ],
    });
  });

  it("plans a 4K disk in 1 MiB-aligned 4096-byte sectors, reported in 512-byte ones", () => {
    const config: PartitioningConfig = {
      base: "image0",
      label: "gpt",
      partitions: [
        { name: "ESP", type: "EF00", size: "500MiB" },
        { name: "BSP", type: "EF02", size: "8MiB" },
        { name: "root", size: "100%" },
      ],
    };
    const gpt = planGpt(config, 1024 ** 3, 4096);
    expect(gpt.partitions.map((p) => [p.start, p.end])).toEqual([
      [256, 128255],
      [128256, 130303],
      [130304, 130304 + 514 * 256 - 1],
    ]);
    expect(planPartitionLayout(config, 1024 ** 3, 4096).partitions[0]).toMatchObject({
      start: 2048,
      end: 128256 * 8 - 1,
    });
  });
});

describe.runIf(findTool("sgdisk") && findTool("sfdisk"))(
  "GPT layouts against the real sgdisk",
  () => {
    // sgdisk spends about a second on each file, so these run side by side.
    it.concurrent.each(gptCases.map((c) => [c.config.split("/").slice(-2).join("/"), c] as const))(
      "matches where sgdisk really puts %s",
      async (_, c) => {
        const config = partitioningFixture(c.config);
        const disk = sparseDisk(c.disk_size_bytes);
        try {
          await run("sgdisk", sgdiskArgv(planGpt(config, c.disk_size_bytes), disk.path).slice(1));
          const table = JSON.parse(
            (await run("sfdisk", ["--json", disk.path])).stdout,
          ).partitiontable;
          const layout = planPartitionLayout(config, c.disk_size_bytes);
          expect(
            table.partitions.map((p: { start: number; size: number; name: string }) => ({
              name: p.name,
              start: p.start,
              end: p.start + p.size - 1,
            })),
          ).toEqual(layout.partitions.map(({ name, start, end }) => ({ name, start, end })));
        } finally {
          disk.remove();
        }
      },
    );
  },
);

describe("partitioning config errors", () => {
  const mbr = (partitions: PartitioningConfig["partitions"]): PartitioningConfig => ({
    base: "image0",
    label: "mbr",
    partitions,
  });
  const plan = (config: PartitioningConfig) => () => planPartitionLayout(config, 1024 ** 3);

  it("refuses a primary partition after a logical one", () => {
    expect(
      plan(
        mbr([
          { name: "l", size: "10MiB" },
          { name: "p", size: "10MiB", flags: ["primary"] },
        ]),
      ),
    ).toThrow("All primary partitions must be given first");
  });

  it("refuses an unknown flag", () => {
    expect(plan(mbr([{ name: "p", size: "10MiB", flags: ["bootable"] }]))).toThrow(
      "Unknown flag: bootable",
    );
  });

  it("refuses the primary flag on GPT", () => {
    expect(
      plan({
        base: "image0",
        label: "gpt",
        partitions: [{ name: "p", size: "8MiB", flags: ["primary"] }],
      }),
    ).toThrow("Primary flag not supported for GPT partitions");
  });

  it("reads MBR types as hex strings the way DIB does", () => {
    const types = ["0x41", "83", "EF", "c"].map(
      (type) =>
        planPartitionLayout(mbr([{ name: "p", size: "8MiB", flags: ["primary"], type }]), 1024 ** 3)
          .partitions[0]?.type,
    );
    expect(types).toEqual(["0x41", "0x83", "0xef", "0x0c"]);
    expect(plan(mbr([{ name: "p", size: "8MiB", flags: ["primary"], type: "0x4100" }]))).toThrow(
      "Invalid MBR partition type '0x4100'",
    );
  });

  it("refuses a fifth primary partition", () => {
    const five = ["a", "b", "c", "d", "e"].map((name) => ({
      name,
      size: "8MiB",
      flags: ["primary"],
    }));
    expect(plan(mbr(five))).toThrow("at most 4 primary partitions");
  });

  it("refuses partitions larger than the disk, with DIB's message", () => {
    expect(plan(mbr([{ name: "p", size: "2GiB", flags: ["primary"] }]))).toThrow(
      "The requested size of the image is smaller than the block device configuration.",
    );
    expect(
      plan({ base: "image0", label: "gpt", partitions: [{ name: "p", size: "2GiB" }] }),
    ).toThrow("The requested size of the image is smaller than the block device configuration.");
  });

  it("refuses a GPT type that is neither an sgdisk code nor a GUID", () => {
    expect(
      plan({
        base: "image0",
        label: "gpt",
        partitions: [{ name: "p", size: "8MiB", type: "linux" }],
      }),
    ).toThrow("Invalid GPT partition type 'linux'");
  });
});

import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BlockDeviceNode, emptyState, type NodeContext } from "@dib/block-device";
import { type PartitioningConfig, partitioningPlugin } from "@dib/block-device-partitioning";
import { Host, Ledger } from "@dib/host";
import { expectHostClean, hostSnapshot, isRoot, rootOnlyReason } from "@dib/test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lvmPlugin } from "./lvm-plugin.js";
import type { LvmConfig } from "./schema.js";

const MiB = 1024 ** 2;
const host = new Host({ trace: !!process.env.DIB_TEST_TRACE });
const METADATA_ONLY = "global { activation = 0 }";

/** The block-device-efi-lvm layout, scaled down: ESP, BIOS boot, and LVM on the rest. */
const efiLvmPartitions: PartitioningConfig = {
  base: "image0",
  label: "gpt",
  partitions: [
    { name: "ESP", type: "EF00", size: "64MiB" },
    { name: "BSP", type: "EF02", size: "8MiB" },
    { name: "root", flags: ["boot"], size: "100%" },
  ],
};
const efiLvm: LvmConfig = {
  name: "lvm",
  base: ["root"],
  pvs: [{ name: "pv", base: "root", options: ["--force"] }],
  vgs: [{ name: "vg", base: ["pv"], options: ["--force"] }],
  lvs: [
    { name: "lv_root", base: "vg", extents: "23%VG" },
    { name: "lv_var", base: "vg", extents: "57%VG" },
    { name: "lv_home", base: "vg", extents: "20%VG" },
  ],
};

interface LvRow {
  lv_name: string;
  lv_size: string;
}

describe.runIf(isRoot)(`linear LVs without device-mapper on a real image${rootOnlyReason}`, () => {
  let before: ReturnType<typeof hostSnapshot>;
  let dir: string;
  let ledger: Ledger;

  beforeEach(() => {
    before = hostSnapshot();
    dir = mkdtempSync(join(tmpdir(), "dib-lvm-"));
    ledger = Ledger.open(dir, host);
  });

  afterEach(async () => {
    await ledger.undo().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  async function image(size: number) {
    const file = join(dir, "image0.raw");
    closeSync(openSync(file, "w"));
    truncateSync(file, size);
    const loop = await ledger.attachLoop(file);
    const ctx: NodeContext = {
      host,
      ledger,
      params: { buildDir: dir, imageDir: dir, mountBase: join(dir, "mnt"), rootFsType: "xfs" },
      state: { ...emptyState(), blockdev: { image0: { device: loop.detail.device, image: file } } },
      capabilities: {
        deviceMapper: false,
        loopPartitionScan: false,
        partxAdd: true,
        vfatMount: false,
      },
      stateDir: join(dir, "states"),
    };
    return { ctx, file, loop };
  }

  function nodes(
    partitioning: PartitioningConfig,
    lvm: LvmConfig,
    ctx: NodeContext,
  ): BlockDeviceNode[] {
    const input = { params: ctx.params, graph: [], index: 1, origin: "[1]" };
    return [
      ...partitioningPlugin.nodes({ ...input, config: partitioning }),
      ...lvmPlugin.nodes({ ...input, config: lvm }),
    ];
  }

  async function lvsOn(pvDevice: string): Promise<LvRow[]> {
    const { stdout } = await host.run(
      [
        "lvs",
        "--config",
        METADATA_ONLY,
        "--devices",
        pvDevice,
        "--reportformat",
        "json",
        "--units",
        "b",
        "--nosuffix",
        "-o",
        "lv_name,lv_size",
        "vg",
      ],
      { env: { LVM_SUPPRESS_FD_WARNINGS: "1" } },
    );
    return JSON.parse(stdout).report[0].lv;
  }

  it("makes an efi-lvm image whose LVs are usable now and consistent LVM afterwards", async () => {
    const { ctx, file, loop } = await image(2048 * MiB);
    const graph = nodes(efiLvmPartitions, efiLvm, ctx);
    for (const node of graph) await node.create(ctx);

    const lvs = await lvsOn(ctx.state.blockdev.root?.device ?? "");
    expect(lvs.map((l) => l.lv_name).sort()).toEqual(["lv_home", "lv_root", "lv_var"]);
    for (const lv of lvs) {
      const device = ctx.state.blockdev[lv.lv_name]?.device ?? "";
      expect(device).toMatch(/^\/dev\/loop\d+$/);
      const size = (await host.run(["blockdev", "--getsize64", device])).stdout.trim();
      expect(size, lv.lv_name).toBe(lv.lv_size);
    }

    // The root LV takes an xfs filesystem and a file, through its loop device.
    const rootLv = ctx.state.blockdev.lv_root?.device ?? "";
    await host.run(["mkfs.xfs", "-q", "-L", "img-rootfs", rootLv]);
    await host.run(["mkfs.xfs", "-q", "-L", "fs_var", ctx.state.blockdev.lv_var?.device ?? ""]);
    const mnt = join(dir, "mnt");
    mkdirSync(mnt);
    const mounted = await ledger.mount({ source: rootLv, target: mnt, fstype: "xfs" });
    writeFileSync(join(mnt, "hello"), "from the LV\n");
    await ledger.release(mounted.seq);

    for (const node of [...graph].reverse()) await node.umount?.(ctx);
    for (const node of [...graph].reverse()) await node.cleanup?.(ctx);
    await ledger.release(loop.seq);
    expect(ledger.held()).toEqual([]);
    expectHostClean(before, [dir]);

    // Read the image afresh, as a machine booting it would: LVM finds a consistent VG, and
    // lv_root's extents hold the filesystem written through the loop device.
    const again = await ledger.attachLoop(file);
    const parts = await ledger.addPartitions(again.detail.device, file);
    const pv = `${again.detail.device}p3`;
    await host.run(["vgck", "--config", METADATA_ONLY, "--devices", pv, "vg"], {
      env: { LVM_SUPPRESS_FD_WARNINGS: "1" },
    });
    expect((await lvsOn(pv)).map((l) => l.lv_name).sort()).toEqual([
      "lv_home",
      "lv_root",
      "lv_var",
    ]);
    const segments = JSON.parse(
      (
        await host.run(
          [
            "lvs",
            "--config",
            METADATA_ONLY,
            "--devices",
            pv,
            "--reportformat",
            "json",
            "--units",
            "b",
            "--nosuffix",
            "--segments",
            "-o",
            "lv_name,seg_pe_ranges",
            "vg/lv_root",
          ],
          { env: { LVM_SUPPRESS_FD_WARNINGS: "1" } },
        )
      ).stdout,
    ).report[0].seg[0];
    const [, first, last] = /:(\d+)-(\d+)$/.exec(segments.seg_pe_ranges) ?? [];
    const pvStart = Number(readFileSync(`/sys/class/block/${pv.slice(5)}/start`, "utf8")) * 512;
    const extent = 4 * MiB;
    const lvRoot = await ledger.attachLoop(file, {
      offset: pvStart + MiB + Number(first) * extent,
      sizelimit: (Number(last) - Number(first) + 1) * extent,
    });
    const label = await host.run(["blkid", "-s", "LABEL", "-o", "value", lvRoot.detail.device]);
    expect(label.stdout.trim()).toBe("img-rootfs");
    const reread = await ledger.mount({
      source: lvRoot.detail.device,
      target: mnt,
      fstype: "xfs",
      options: ["ro", "norecovery"],
    });
    expect(readFileSync(join(mnt, "hello"), "utf8")).toBe("from the LV\n");
    for (const seq of [reread.seq, lvRoot.seq, parts.seq, again.seq]) await ledger.release(seq);
    expectHostClean(before, [dir]);
  });

  it("refuses an LV that would span two PVs, and rolls everything back", async () => {
    const { ctx, loop } = await image(256 * MiB);
    const partitions: PartitioningConfig = {
      base: "image0",
      label: "gpt",
      partitions: [
        { name: "small", size: "40MiB" },
        { name: "large", size: "100%" },
      ],
    };
    const lvm: LvmConfig = {
      name: "lvm",
      pvs: [
        { name: "pv0", base: "small" },
        { name: "pv1", base: "large" },
      ],
      vgs: [{ name: "vg", base: ["pv0", "pv1"] }],
      lvs: [{ name: "big", base: "vg", size: "230MiB" }],
    };
    const graph = nodes(partitions, lvm, ctx);
    const started: BlockDeviceNode[] = [];
    await expect(
      (async () => {
        for (const node of graph) {
          started.push(node);
          await node.create(ctx);
        }
      })(),
    ).rejects.toMatchObject({
      code: "DIB_LVM_NEEDS_DEVICE_MAPPER",
      message: expect.stringMatching(/vg\/big is split into 2 segments/),
    });
    for (const node of started.reverse()) await node.rollback?.(ctx);
    expect(ledger.held().map((e) => e.seq)).toEqual([loop.seq]);
    await ledger.release(loop.seq);
    expectHostClean(before, [dir]);
  });
});

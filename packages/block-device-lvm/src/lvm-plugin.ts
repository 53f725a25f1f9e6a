import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import type {
  BlockDeviceNode,
  BlockDevicePlugin,
  BlockDeviceState,
  HostCapabilities,
  NodeContext,
} from "@dib/block-device";
import { DibError, loopBackingFile } from "@dib/host";
import { lvPlacements, needsDeviceMapper } from "./lv-placement.js";
import {
  lvcreateArgv,
  mapperDevice,
  metadataOnlyOptions,
  pvcreateArgv,
  reportArgv,
  vgcreateArgv,
} from "./lvm-commands.js";
import { type LvmLayout, lvmLayout } from "./lvm-layout.js";
import { type LvmConfig, lvmSchema } from "./schema.js";

/**
 * How the LVs become block devices: `device-mapper` activates them as lvm2 does;
 * `loop` (no device-mapper) writes only the metadata and puts a loop device over each
 * LV's extents in the image file.
 */
export type LvmMode = "device-mapper" | "loop";

/** What an lvm entry keeps in the state between create and umount (`state.lvm[name]`). */
export interface LvmRecord {
  mode: LvmMode;
  /** Extra arguments of every lvm command (metadata-only mode: the devices it may touch). */
  scope: string[];
  /** VGs created, in order, with the ledger entry that deactivates them (device-mapper). */
  vgs: { name: string; seq: number | null }[];
  /** LVs created, in order. */
  lvs: { vg: string; name: string }[];
  /** Ledger entries of the loop devices standing in for LVs (metadata-only mode). */
  loops: number[];
}

const LVM_ENV = { LVM_SUPPRESS_FD_WARNINGS: "1" };

function records(state: BlockDeviceState): Record<string, LvmRecord> {
  state.lvm ??= {};
  return state.lvm as Record<string, LvmRecord>;
}

function stateMap(
  state: BlockDeviceState,
  key: "pvs" | "vgs",
): Record<string, Record<string, unknown>> {
  state[key] ??= {};
  return state[key] as Record<string, Record<string, unknown>>;
}

function lvm(ctx: NodeContext, argv: string[], allowFailure = false) {
  return ctx.host.run(argv, { env: LVM_ENV, allowFailure });
}

function sameDevice(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return statSync(a).rdev === statSync(b).rdev;
  } catch {
    return false;
  }
}

function loopOffset(device: string): number {
  try {
    return Number(readFileSync(`/sys/block/${basename(device)}/loop/offset`, "utf8").trim());
  } catch {
    return 0;
  }
}

/** The image file and offset behind a PV's device: from the partitioning's state, or the loop device itself. */
function pvBacking(
  state: BlockDeviceState,
  base: string,
  device: string,
): { file: string; offset: number } {
  const backing = state.blockdev[base]?.backing as { file?: unknown; offset?: unknown } | undefined;
  if (backing && typeof backing.file === "string" && typeof backing.offset === "number") {
    return { file: backing.file, offset: backing.offset };
  }
  const file = loopBackingFile(device);
  if (file) return { file, offset: loopOffset(device) };
  throw needsDeviceMapper(
    `PV ${device} ('${base}') is neither a partition of an image file nor a loop device`,
  );
}

function unsupportedWithoutDeviceMapper(config: LvmConfig): string | undefined {
  for (const lv of config.lvs) {
    if (lv.type === "thin" || lv.type === "thin-pool") {
      return `LV '${lv.name}' is a ${lv.type}: thin provisioning needs device-mapper, which this host does not have; build on a host with device-mapper (modprobe dm_mod) or use plain LVs`;
    }
    const opts = lv.options ?? [];
    const nonLinear = opts.find(
      (o, i) =>
        /^(-i|--stripes|-m|--mirrors|-s|--snapshot|-T|--thin|--thinpool|-V|--virtualsize|--cache.*|--vdo.*)(=|$)/.test(
          o,
        ) ||
        (o === "--type" && opts[i + 1] !== "linear") ||
        (o.startsWith("--type=") && o !== "--type=linear"),
    );
    if (nonLinear) {
      return `LV '${lv.name}' asks lvcreate for '${nonLinear}': only linear LVs work without device-mapper, which this host does not have; build on a host with device-mapper (modprobe dm_mod)`;
    }
  }
  return undefined;
}

async function createLvm(ctx: NodeContext, layout: LvmLayout): Promise<void> {
  const mode: LvmMode = ctx.capabilities.deviceMapper ? "device-mapper" : "loop";
  const pvDevice = new Map<string, string>();
  for (const pv of layout.pvs) {
    const entry = ctx.state.blockdev[pv.base];
    if (!entry) {
      throw new DibError(
        "DIB_BLOCK_DEVICE_STATE",
        `lvm ${layout.name}: no block device '${pv.base}' for pv '${pv.name}'`,
        {
          hint: `the node '${pv.base}' must be created before the LVM on it`,
        },
      );
    }
    pvDevice.set(pv.name, entry.device);
  }
  const scope = mode === "loop" ? metadataOnlyOptions([...pvDevice.values()]) : [];
  const record: LvmRecord = { mode, scope, vgs: [], lvs: [], loops: [] };
  records(ctx.state)[layout.name] = record;
  ctx.host.debug(
    `lvm ${layout.name}: ${mode === "loop" ? "metadata only, LVs on loop devices (no device-mapper)" : "device-mapper"}`,
  );

  for (const pv of layout.pvs) {
    const device = pvDevice.get(pv.name) as string;
    await lvm(ctx, pvcreateArgv(pv, device, scope));
    stateMap(ctx.state, "pvs")[pv.name] = { opts: pv.options, device };
  }
  for (const vg of layout.vgs) {
    const argv = vgcreateArgv(
      vg,
      vg.pvs.map((p) => pvDevice.get(p) as string),
      scope,
    );
    if (mode === "device-mapper") {
      // Recorded before vgcreate, so that an interrupted build deactivates it on undo.
      const held = await ctx.ledger.acquire({ kind: "lvm", vg: vg.name }, async () => {
        await lvm(ctx, argv);
        return { vg: vg.name };
      });
      record.vgs.push({ name: vg.name, seq: held.seq });
    } else {
      await lvm(ctx, argv);
      record.vgs.push({ name: vg.name, seq: null });
    }
    stateMap(ctx.state, "vgs")[vg.name] = { opts: vg.options, devices: vg.pvs };
  }
  for (const lv of layout.lvs) {
    await lvm(ctx, lvcreateArgv(lv, scope));
    record.lvs.push({ vg: lv.vg, name: lv.name });
    ctx.state.blockdev[lv.name] = {
      vgs: lv.vg,
      size: lv.size,
      extents: lv.extents,
      opts: lv.options,
      device: mode === "device-mapper" ? mapperDevice(lv.vg, lv.name) : "",
    };
  }
  if (mode === "loop") await attachLvLoops(ctx, layout, record, pvDevice);
}

async function attachLvLoops(
  ctx: NodeContext,
  layout: LvmLayout,
  record: LvmRecord,
  pvDevice: Map<string, string>,
): Promise<void> {
  const reports = reportArgv(record.scope);
  const placements = lvPlacements(
    {
      pvs: (await lvm(ctx, reports.pvs)).stdout,
      vgs: (await lvm(ctx, reports.vgs)).stdout,
      segments: (await lvm(ctx, reports.segments)).stdout,
    },
    layout.lvs.map((lv) => ({ vg: lv.vg, lv: lv.name })),
  );
  for (const placement of placements) {
    const pv = layout.pvs.find((p) =>
      sameDevice(pvDevice.get(p.name) as string, placement.pvDevice),
    );
    if (!pv)
      throw new DibError(
        "DIB_LVM_STATE",
        `lvs puts ${placement.vg}/${placement.lv} on ${placement.pvDevice}, which is none of this build's PVs`,
      );
    const device = pvDevice.get(pv.name) as string;
    const backing = pvBacking(ctx.state, pv.base, device);
    const sectorSize =
      Number((await ctx.host.run(["blockdev", "--getss", device])).stdout.trim()) || 512;
    const held = await ctx.ledger.attachLoop(backing.file, {
      offset: backing.offset + placement.offset,
      sizelimit: placement.size,
      ...(sectorSize !== 512 ? { sectorSize } : {}),
    });
    record.loops.push(held.seq);
    const entry = ctx.state.blockdev[placement.lv] as Record<string, unknown>;
    entry.device = held.detail.device;
    entry.backing = {
      file: backing.file,
      offset: backing.offset + placement.offset,
      size: placement.size,
    };
  }
}

async function releaseLoops(ctx: NodeContext, record: LvmRecord): Promise<void> {
  while (record.loops.length > 0) await ctx.ledger.release(record.loops.pop() as number);
}

async function umountLvm(ctx: NodeContext, name: string): Promise<void> {
  const record = records(ctx.state)[name];
  if (!record) return;
  if (record.mode === "loop") return releaseLoops(ctx, record);
  for (const lv of record.lvs) await lvm(ctx, ["lvchange", "-an", `/dev/${lv.vg}/${lv.name}`]);
  for (const vg of record.vgs) {
    if (vg.seq !== null)
      await ctx.ledger.release(vg.seq); // vgchange -an
    else await lvm(ctx, ["vgchange", "-an", vg.name]);
    vg.seq = null;
  }
  await ctx.host.run(["udevadm", "settle"], { allowFailure: true });
}

async function cleanupLvm(ctx: NodeContext, name: string): Promise<void> {
  if (records(ctx.state)[name]?.mode !== "device-mapper") return;
  const result = await lvm(ctx, ["pvscan", "--cache"], true);
  if (result.exitCode !== 0)
    ctx.host.log(`lvm: pvscan --cache failed (ignored): ${result.stderr.trim()}`);
}

async function rollbackLvm(ctx: NodeContext, name: string): Promise<void> {
  const record = records(ctx.state)[name];
  if (!record) return;
  await releaseLoops(ctx, record);
  for (const lv of [...record.lvs].reverse()) {
    if (record.mode === "device-mapper")
      await lvm(ctx, ["lvchange", "--activate", "n", `${lv.vg}/${lv.name}`], true);
    await lvm(ctx, ["lvremove", ...record.scope, "--yes", `/dev/${lv.vg}/${lv.name}`], true);
  }
  for (const vg of [...record.vgs].reverse()) {
    await lvm(ctx, ["vgremove", ...record.scope, "--yes", "--force", vg.name], true);
    if (vg.seq !== null) await ctx.ledger.release(vg.seq);
  }
  record.lvs = [];
  record.vgs = [];
}

/**
 * Level 1 `lvm`: physical volumes, volume groups and logical volumes, created together by
 * one node named after the entry, with placeholder nodes for each PV, VG and LV so that the
 * levels above can build on them. Without device-mapper, linear LVs still work: lvm2 writes
 * the metadata and each LV is reached through a loop device over its extents.
 */
export const lvmPlugin: BlockDevicePlugin<LvmConfig> = {
  name: "lvm",
  schema: lvmSchema,
  nodes({ config }) {
    const layout = lvmLayout(config);
    const placeholder = (name: string, after: string[]): BlockDeviceNode => ({
      name,
      after,
      create: async () => {},
    });
    return [
      {
        name: layout.name,
        after: [...new Set(layout.pvs.map((p) => p.base))],
        before: layout.pvs.map((p) => p.name),
        create: (ctx) => createLvm(ctx, layout),
        umount: (ctx) => umountLvm(ctx, layout.name),
        cleanup: (ctx) => cleanupLvm(ctx, layout.name),
        rollback: (ctx) => rollbackLvm(ctx, layout.name),
      },
      ...layout.pvs.map((pv) => placeholder(pv.name, [])),
      ...layout.vgs.map((vg) => placeholder(vg.name, vg.pvs)),
      ...layout.lvs.map((lv) => placeholder(lv.name, [lv.vg])),
    ];
  },
  tools() {
    return [
      "pvcreate",
      "vgcreate",
      "lvcreate",
      "lvchange",
      "vgchange",
      "lvremove",
      "vgremove",
      "pvs",
      "vgs",
      "lvs",
      "blockdev",
    ];
  },
  unsupported(config: LvmConfig, capabilities: HostCapabilities) {
    return capabilities.deviceMapper ? undefined : unsupportedWithoutDeviceMapper(config);
  },
};

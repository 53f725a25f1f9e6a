import { resolve } from "node:path";
import { blockDeviceConformance } from "@dib/test";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { configArgument, registerBlockDeviceCommand } from "./block-device.js";

const { configNames, configUrl, expected, stockUrl } = blockDeviceConformance;

/** DIB builds a graph for these and fails only in create; dib refuses them up front (MBR type EF00). */
const REFUSED_BEFORE_CREATE = new Set(["lvm_tree_multiple_partitions"]);

async function run(args: string[]): Promise<string> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    const program = new Command("dib-cli").exitOverride();
    registerBlockDeviceCommand(program);
    await program.parseAsync(args, { from: "user" });
  } finally {
    spy.mockRestore();
  }
  return out.join("");
}

afterEach(() => vi.restoreAllMocks());

describe("dib-cli block-device graph", () => {
  it("prints the normalised config, nodes, edges and order as JSON", async () => {
    const json = JSON.parse(
      await run(["block-device", "graph", "--config", configUrl("deep_tree"), "--json"]),
    );
    expect(json.order).toEqual([
      "image0",
      "root",
      "mkfs_root",
      "mount_mkfs_root",
      "fstab_mount_mkfs_root",
    ]);
    expect(json.nodes).toEqual([
      "image0",
      "fstab_mount_mkfs_root",
      "mount_mkfs_root",
      "mkfs_root",
      "root",
    ]);
    expect(json.edges).toContainEqual(["image0", "root"]);
    // DIB's graph has no label on mkfs_root: the default label is applied when it is made
    expect(json.config).toContainEqual({ mkfs: { base: "root", name: "mkfs_root", type: "ext4" } });
    expect(json.defaults).toEqual({ mkfs_root: { label: "cloudimg-rootfs" } });
  });

  it("shows the FS_TYPE and ROOT_LABEL a root mkfs without them gets in defaults, not in config", async () => {
    const json = JSON.parse(
      await run([
        "block-device",
        "graph",
        "--config",
        "- local_loop: {name: image0}\n- mkfs: {name: mkfs_root, base: image0}",
        "--root-fs-type",
        "xfs",
        "--json",
      ]),
    );
    expect(json.config).toEqual([
      { local_loop: { name: "image0" } },
      { mkfs: { name: "mkfs_root", base: "image0" } },
    ]);
    expect(json.defaults).toEqual({ mkfs_root: { type: "xfs", label: "img-rootfs" } });
  });

  it.each(
    configNames().filter((name) => {
      const e = expected(name);
      return (
        e?.graph_config !== undefined &&
        e.create_graph_error === undefined &&
        !REFUSED_BEFORE_CREATE.has(name)
      );
    }),
  )("prints DIB's graph config for %s", async (name) => {
    const json = JSON.parse(
      await run(["block-device", "graph", "--config", configUrl(name), "--json"]),
    );
    expect(json.config).toEqual(expected(name)?.graph_config);
    expect(json.edges).toEqual(expect.arrayContaining(expected(name)?.edges ?? []));
  });

  it("reports a --config file that does not exist as a missing file", async () => {
    await expect(
      run(["block-device", "layout", "--config", "missing.yaml", "--image-size", "1GiB"]),
    ).rejects.toMatchObject({
      code: "DIB_BLOCK_DEVICE_CONFIG",
      message: `the block-device config file ${resolve("missing.yaml")} does not exist`,
    });
  });

  it("takes a plain path as well as file://", async () => {
    const path = configUrl("deep_tree").slice("file://".length);
    expect(
      JSON.parse(await run(["block-device", "graph", "--config", path, "--json"])).order,
    ).toHaveLength(5);
  });

  it("fails with the config error for an invalid config", async () => {
    await expect(
      run(["block-device", "graph", "--config", configUrl("bad_edge_graph"), "--json"]),
    ).rejects.toMatchObject({
      code: "DIB_BLOCK_DEVICE_CONFIG",
      message: "Edge not defined: this_is_not_a_node->mkfs_root",
    });
  });
});

describe("dib-cli block-device layout", () => {
  it("plans the stock MBR layout on 2 GiB like DIB", async () => {
    const json = JSON.parse(
      await run([
        "block-device",
        "layout",
        "--config",
        stockUrl("block-device-mbr"),
        "--image-size",
        "2GiB",
        "--json",
      ]),
    );
    expect(json).toEqual([
      {
        name: "partitioning_image0",
        label: "mbr",
        partitions: [
          {
            name: "root",
            number: 1,
            start: 2048,
            end: 4192255,
            type: "0x83",
            flags: ["boot", "primary"],
          },
        ],
      },
    ]);
  });

  it("plans the stock EFI layout on 3 GiB in 512-byte sectors", async () => {
    const [layout] = JSON.parse(
      await run([
        "block-device",
        "layout",
        "--config",
        stockUrl("block-device-efi"),
        "--image-size",
        "3221225472",
        "--json",
      ]),
    );
    expect(layout.label).toBe("gpt");
    expect(layout.partitions.map((p: { name: string; type: string }) => [p.name, p.type])).toEqual([
      ["ESP", "EF00"],
      ["BSP", "EF02"],
      ["root", "8300"],
    ]);
    expect(layout.partitions[0]).toMatchObject({
      number: 1,
      start: 2048,
      end: 2048 + 550 * 2048 - 1,
    });
  });
});

describe("configArgument", () => {
  it("reads DIB_BLOCK_DEVICE_CONFIG when --config is not given", () => {
    expect(configArgument(undefined, { DIB_BLOCK_DEVICE_CONFIG: "- local_loop: {name: x}" })).toBe(
      "- local_loop: {name: x}",
    );
  });

  it("falls back to DIB's filesystem-only layout", () => {
    expect(configArgument(undefined, {})).toContain("name: mkfs_root");
  });

  it("passes file:// and YAML text through", () => {
    expect(configArgument("file:///x.yaml", {})).toBe("file:///x.yaml");
    expect(configArgument("- mkfs: {name: a}", {})).toBe("- mkfs: {name: a}");
  });
});

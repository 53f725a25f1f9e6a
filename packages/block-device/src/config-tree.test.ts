import { describe, expect, it } from "vitest";
import {
  configNames,
  configYaml,
  errorText,
  expected,
  STOCK_PLUGIN_NAMES,
} from "./__fixtures__/conformance.js";
import { configTreeToGraph } from "./config-tree.js";

const names = new Set([...STOCK_PLUGIN_NAMES, "test_a", "test_b"]);

describe("configTreeToGraph on DIB's fixtures", () => {
  const withGraph = configNames().filter((n) => expected(n)?.graph_config);
  it.each(withGraph)("converts %s to DIB's graph config", (name) => {
    const { entries } = configTreeToGraph(configYaml(name), names);
    expect(entries).toEqual(expected(name)?.graph_config);
  });

  it.each(withGraph)("leaves the graph form of %s unchanged", (name) => {
    const once = configTreeToGraph(configYaml(name), names).entries;
    expect(configTreeToGraph(once, names).entries).toEqual(once);
  });

  const withError = configNames().filter((n) => expected(n)?.config_tree_to_graph_error);
  it.each(withError)("rejects %s with DIB's message", (name) => {
    const dibText = errorText(expected(name)?.config_tree_to_graph_error ?? "");
    const prefix = dibText.slice(0, dibText.indexOf(":") + 1);
    expect(() => configTreeToGraph(configYaml(name), names)).toThrow(prefix);
  });
});

describe("configTreeToGraph", () => {
  it("names nested entries <plugin>_<base> and bases them on their parent", () => {
    const { entries } = configTreeToGraph(
      [
        {
          mkfs: {
            name: "root_fs",
            base: "root_part",
            type: "xfs",
            mount: { mount_point: "/", fstab: {} },
          },
        },
      ],
      names,
    );
    expect(entries).toEqual([
      { fstab: { name: "fstab_mount_root_fs", base: "mount_root_fs" } },
      { mount: { name: "mount_root_fs", base: "root_fs", mount_point: "/" } },
      { mkfs: { name: "root_fs", base: "root_part", type: "xfs" } },
    ]);
  });

  it("gives partitions the disk as base and nests their entries on the partition", () => {
    const { entries } = configTreeToGraph(
      [
        {
          partitioning: {
            base: "image0",
            label: "gpt",
            partitions: [{ name: "ESP", size: "8MiB", mkfs: { type: "vfat" } }],
          },
        },
      ],
      names,
    );
    expect(entries).toEqual([
      { mkfs: { name: "mkfs_ESP", base: "ESP", type: "vfat" } },
      {
        partitioning: {
          name: "partitioning_image0",
          base: "image0",
          label: "gpt",
          partitions: [{ name: "ESP", size: "8MiB", base: "image0" }],
        },
      },
    ]);
  });

  it("records where each entry came from for error messages", () => {
    const { origins } = configTreeToGraph(
      [
        { local_loop: { name: "image0" } },
        {
          partitioning: {
            base: "image0",
            label: "mbr",
            partitions: [{ name: "root", mkfs: { mount: {} } }],
          },
        },
      ],
      names,
    );
    expect(origins).toEqual([
      "[0].local_loop",
      "[1].partitioning.partitions[0].mkfs.mount",
      "[1].partitioning.partitions[0].mkfs",
      "[1].partitioning",
    ]);
  });

  it("names an lvm on a list base after its items", () => {
    const { entries } = configTreeToGraph([{ lvm: { base: ["root"], pvs: [] } }], names);
    expect(entries[0]?.lvm?.name).toBe("lvm_root");
  });

  it("keeps an unknown nested key on its entry, where the plugin's schema reports it", () => {
    const { entries } = configTreeToGraph(
      [{ mkfs: { name: "a", base: "b", mont: { mount_point: "/" } } }],
      names,
    );
    expect(entries).toEqual([{ mkfs: { name: "a", base: "b", mont: { mount_point: "/" } } }]);
  });

  it.each([
    [[1], "Config entry not a dict: 1"],
    [[{ mkfs: {}, mount: {} }], "Config entry top-level should be a single dict:"],
    [[{ mkfz: { name: "x" } }], 'Config entry is not a plugin value: {"mkfz":{"name":"x"}}'],
    [[{ mkfs: { name: "x", mount: "/" } }], "Config entry not a dict:"],
    [{ mkfs: {} }, "the block-device config must be a list"],
    [null, "the block-device config is empty"],
  ])("rejects %j", (config, message) => {
    expect(() => configTreeToGraph(config, names, "/etc/x.yaml")).toThrow(message);
    try {
      configTreeToGraph(config, names, "/etc/x.yaml");
    } catch (error) {
      expect(error).toMatchObject({ code: "DIB_BLOCK_DEVICE_CONFIG", file: "/etc/x.yaml" });
    }
  });
});

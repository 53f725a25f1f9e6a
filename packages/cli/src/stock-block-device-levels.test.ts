import { readFileSync } from "node:fs";
import { defaultParams, planBlockDevice } from "@dib/block-device";
import { STOCK_BLOCK_DEVICE_LEVELS as stockPlugins } from "@dib/builder";
import { blockDeviceConformance } from "@dib/test";
import { describe, expect, it } from "vitest";

const { configNames, configUrl, expected, stockUrl } = blockDeviceConformance;

const params = defaultParams("/nonexistent", { imageSize: 2 * 1024 ** 3 });
const plan = (config: string) => planBlockDevice(config, { plugins: stockPlugins, params });

/** The config whose fstab says `fck-passno`: DIB ignores the typo, we name it. */
const TYPO = "lvm_tree_multiple_partitions";

describe("the stock levels on DIB's block-device fixtures", () => {
  const graphs = configNames().filter((n) => expected(n)?.nodes && n !== TYPO);
  it.each(graphs)("%s: the same nodes and edges as DIB, in a valid order", (name) => {
    const want = expected(name);
    const graph = plan(configUrl(name));
    expect(graph.nodes.map((n) => n.name).sort()).toEqual(want?.nodes);
    expect(graph.edges.map(([a, b]) => `${a}->${b}`).sort()).toEqual(
      want?.edges?.map(([a, b]) => `${a}->${b}`).sort(),
    );
    const position = new Map(graph.order.map((n, i) => [n.name, i]));
    for (const [from, to] of graph.edges) {
      expect(position.get(from)).toBeLessThan(position.get(to) as number);
    }
  });

  const errors = configNames().filter((n) => expected(n)?.create_graph_error);
  it.each(errors)("%s: DIB's error", (name) => {
    const text = (expected(name)?.create_graph_error ?? "").replace(/^\w+: /, "");
    expect(() => plan(configUrl(name))).toThrow(text);
  });

  it("deep_tree: exactly DIB's call order", () => {
    expect(plan(configUrl("deep_tree")).order.map((n) => n.name)).toEqual([
      "image0",
      "root",
      "mkfs_root",
      "mount_mkfs_root",
      "fstab_mount_mkfs_root",
    ]);
  });

  // Its MBR partitions also carry GPT type codes (EF00, EF02), which the partitioning level
  // rejects up front where DIB would fail writing the table: use real MBR codes here.
  const typoYaml = () =>
    readFileSync(configUrl(TYPO).slice("file://".length), "utf8")
      .replace("type: 'EF00'", "type: 'EF'")
      .replace("type: 'EF02'", "type: '83'");

  it(`${TYPO}: names the misspelt fsck-passno that DIB silently ignores`, () => {
    try {
      plan(typoYaml());
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: "DIB_BLOCK_DEVICE_CONFIG",
        message: expect.stringContaining('unknown key "fck-passno"'),
        details: { path: "[3].mkfs.mount.fstab.fck-passno" },
      });
    }
  });

  it(`${TYPO}: names the misspelt key in the config file`, () => {
    expect(() => plan(configUrl(TYPO))).toThrow(
      expect.objectContaining({ file: expect.stringMatching(/\.yaml$/) }),
    );
  });

  it(`${TYPO}: matches DIB's graph once the typo is fixed`, () => {
    const want = expected(TYPO);
    const graph = plan(typoYaml().replace("fck-passno", "fsck-passno"));
    expect(graph.nodes.map((n) => n.name).sort()).toEqual(want?.nodes);
    expect(graph.edges.map(([a, b]) => `${a}->${b}`).sort()).toEqual(
      want?.edges?.map(([a, b]) => `${a}->${b}`).sort(),
    );
  });

  it.each([
    "block-device-mbr",
    "block-device-gpt",
    "block-device-efi",
    "block-device-efi-4k",
    "block-device-efi-lvm",
  ])("plans the stock layout %s", (name) => {
    const graph = plan(stockUrl(name));
    expect(graph.order[0]?.name).toBe("image0");
    const rootFstab = name.endsWith("lvm") ? "fstab_mount_fs_root" : "fstab_mount_mkfs_root";
    expect(graph.order.map((n) => n.name)).toContain(rootFstab);
  });
});

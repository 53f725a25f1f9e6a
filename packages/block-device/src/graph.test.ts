import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defaultParams, planBlockDevice } from "./block-device.js";
import { buildGraph } from "./graph.js";
import type { BlockDevicePlugin, GraphEntry } from "./plugin.js";
import { PluginRegistry } from "./plugin-registry.js";

/** A level whose nodes come after `base` and, optionally, before `precedes`. */
const chain: BlockDevicePlugin<{
  name: string;
  base?: string | undefined;
  precedes?: string | undefined;
}> = {
  name: "chain",
  schema: z.strictObject({
    name: z.string(),
    base: z.string().optional(),
    precedes: z.string().optional(),
  }),
  nodes: ({ config }) => [
    {
      name: config.name,
      after: config.base ? [config.base] : [],
      before: config.precedes ? [config.precedes] : [],
      create: async () => {},
    },
  ],
};

/** A level that makes two nodes and no node for itself (like partitioning). */
const pair: BlockDevicePlugin<{ name: string; base: string }> = {
  name: "pair",
  schema: z.strictObject({ name: z.string(), base: z.string() }),
  nodes: ({ config }) => [
    { name: `${config.name}1`, after: [config.base], create: async () => {} },
    { name: `${config.name}2`, after: [config.base, `${config.name}1`], create: async () => {} },
  ],
};

const registry = new PluginRegistry([chain, pair]);
const params = defaultParams("/nonexistent");
const graph = (entries: GraphEntry[]) =>
  buildGraph(entries, registry, params, { file: "/cfg.yaml" });
const order = (entries: GraphEntry[]) => graph(entries).order.map((n) => n.name);

describe("buildGraph", () => {
  it("orders nodes after their bases", () => {
    expect(
      order([
        { chain: { name: "c", base: "b" } },
        { chain: { name: "b", base: "a" } },
        { chain: { name: "a" } },
      ]),
    ).toEqual(["a", "b", "c"]);
  });

  it("breaks ties by config order, the same on every run", () => {
    const entries = [
      { chain: { name: "root" } },
      { chain: { name: "z", base: "root" } },
      { chain: { name: "y", base: "root" } },
      { chain: { name: "x", base: "root" } },
    ];
    expect(order(entries)).toEqual(["root", "z", "y", "x"]);
    expect(order(entries)).toEqual(order(entries));
  });

  it("honours `before` edges", () => {
    expect(order([{ chain: { name: "b" } }, { chain: { name: "a", precedes: "b" } }])).toEqual([
      "a",
      "b",
    ]);
  });

  it("lists edges as [from, to] once each", () => {
    expect(graph([{ chain: { name: "d" } }, { pair: { name: "p", base: "d" } }]).edges).toEqual([
      ["d", "p1"],
      ["d", "p2"],
      ["p1", "p2"],
    ]);
  });

  it("makes nodes for what a plugin returns, not for the entry", () => {
    expect(
      graph([{ chain: { name: "d" } }, { pair: { name: "p", base: "d" } }]).nodes.map(
        (n) => n.name,
      ),
    ).toEqual(["d", "p1", "p2"]);
  });

  it("rejects a duplicate node name with DIB's text", () => {
    expect(() => graph([{ chain: { name: "x" } }, { chain: { name: "x" } }])).toThrow(
      "Duplicate node name: x",
    );
  });

  it("rejects an edge to a missing node with DIB's text and names the file", () => {
    expect(() => graph([{ chain: { name: "mkfs_root", base: "this_is_not_a_node" } }])).toThrow(
      "Edge not defined: this_is_not_a_node->mkfs_root",
    );
    try {
      graph([{ chain: { name: "a", precedes: "nowhere" } }]);
    } catch (error) {
      expect(error).toMatchObject({
        code: "DIB_BLOCK_DEVICE_CONFIG",
        message: "Edge not defined: a->nowhere",
        file: "/cfg.yaml",
      });
    }
  });

  it("reports duplicates before missing edges, as DIB does", () => {
    expect(() => graph([{ chain: { name: "x", base: "nope" } }, { chain: { name: "x" } }])).toThrow(
      "Duplicate node name: x",
    );
  });

  it("rejects a cycle", () => {
    expect(() =>
      graph([{ chain: { name: "a", base: "b" } }, { chain: { name: "b", base: "a" } }]),
    ).toThrow("The block-device graph has a cycle through: a, b");
  });

  it("rejects an unknown key with the path to it", () => {
    try {
      graph([{ chain: { name: "a" } }, { chain: { name: "b", base: "a", bsae: "x" } }]);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: "DIB_BLOCK_DEVICE_CONFIG",
        message: 'Config entry chain "b" is invalid: [1].chain.bsae: unknown key "bsae"',
        hint: "chain accepts: name, base, precedes (check the spelling)",
        file: "/cfg.yaml",
      });
    }
  });

  it("names the key's path in the user's tree form", () => {
    const yaml = [
      "- chain:",
      "    name: a",
      "- pair:",
      "    name: p",
      "    base: a",
      "    chain:",
      "      nmae: oops",
    ].join("\n");
    expect(() => planBlockDevice(yaml, { plugins: [chain, pair], params })).toThrow(
      '[1].pair.chain.nmae: unknown key "nmae"',
    );
  });
});

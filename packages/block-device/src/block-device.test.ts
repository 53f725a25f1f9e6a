import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, Ledger } from "@dib/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configFile } from "./__fixtures__/conformance.js";
import { type Recorder, testPlugins } from "./__fixtures__/test-plugins.js";
import { type BlockDevice, createBlockDevice, defaultParams } from "./block-device.js";
import type { BlockDeviceParams, HostCapabilities } from "./plugin.js";

const capabilities: HostCapabilities = {
  deviceMapper: false,
  loopPartitionScan: false,
  partxAdd: true,
  vfatMount: false,
};

let buildDir: string;
let params: BlockDeviceParams;
let recorder: Recorder;
let bd: BlockDevice;
const logs: string[] = [];

beforeEach(() => {
  buildDir = mkdtempSync(join(tmpdir(), "dib-bd-test-"));
  params = defaultParams(buildDir);
  recorder = { calls: [] };
  logs.length = 0;
  bd = createBlockDevice({
    plugins: testPlugins(recorder),
    host: new Host({ log: (l) => logs.push(l) }),
    capabilities,
  });
});

afterEach(() => {
  rmSync(buildDir, { recursive: true, force: true });
});

const stateDir = () => join(buildDir, "states", "block-device");
const readJson = (name: string) => JSON.parse(readFileSync(join(stateDir(), name), "utf8"));

describe("the block-device lifecycle (DIB's test plugins)", () => {
  it("init saves the graph config and reports the call order", async () => {
    const result = await bd.init(params, `file://${configFile("cmd_create")}`);
    expect(result.order).toEqual(["test_node_a", "test_node_b"]);
    expect(readJson("config.json")).toEqual([
      { test_a: { name: "test_node_a" } },
      { test_b: { name: "test_node_b", base: "test_node_a" } },
    ]);
  });

  it("create runs every node in order and saves state.json and the node list", async () => {
    await bd.init(params, `file://${configFile("cmd_create")}`);
    const result = await bd.create(params);
    expect(recorder.calls).toEqual(["create test_node_a", "create test_node_b"]);
    expect(readJson("state.json")).toMatchObject({
      test_a: { value: "foo", value2: "bar" },
      test_b: { value: "baz" },
    });
    expect(readJson("nodes.json").order).toEqual(["test_node_a", "test_node_b"]);
    expect(result.order).toEqual(["test_node_a", "test_node_b"]);
  });

  it("umount, cleanup and delete walk the nodes backwards, rebuilt from the saved config", async () => {
    await bd.init(params, `file://${configFile("cmd_create")}`);
    await bd.create(params);
    recorder.calls.length = 0;
    await bd.umount(params);
    await bd.cleanup(params);
    expect(recorder.calls).toEqual([
      "umount test_node_b",
      "umount test_node_a",
      "cleanup test_node_b",
      "cleanup test_node_a",
    ]);
    expect(existsSync(stateDir())).toBe(false);
  });

  it("delete calls delete on every node backwards and removes the state", async () => {
    await bd.init(params, `file://${configFile("cmd_create")}`);
    await bd.create(params);
    recorder.calls.length = 0;
    await bd.delete(params);
    expect(recorder.calls).toEqual(["delete test_node_b", "delete test_node_a"]);
    expect(existsSync(stateDir())).toBe(false);
  });

  it("refuses to create twice", async () => {
    await bd.init(params, `file://${configFile("cmd_create")}`);
    await bd.create(params);
    await expect(bd.create(params)).rejects.toMatchObject({ code: "DIB_BLOCK_DEVICE_STATE" });
  });

  it("reports a missing state the way DIB does", async () => {
    await bd.init(params, `file://${configFile("cmd_create")}`);
    await bd.create(params);
    rmSync(join(stateDir(), "state.json"));
    rmSync(join(stateDir(), "nodes.json"));
    expect(() => bd.getval(params, "image-path")).toThrow("State dump not found");
    expect(() => bd.writefstab(params)).toThrow("State dump not found");
    await expect(bd.cleanup(params)).rejects.toThrow("Node list not found");
    await bd.umount(params);
    expect(logs).toContain("block-device: State already cleaned - no way to do anything here");
  });

  it("writes the fstab inside the image even when the image's /etc links to a host directory", async () => {
    await bd.init(params, `file://${configFile("cmd_create")}`);
    await bd.create(params);
    const hostEtc = join(buildDir, "host-etc");
    mkdirSync(hostEtc);
    mkdirSync(params.mountBase, { recursive: true });
    symlinkSync(hostEtc, join(params.mountBase, "etc")); // absolute: the host's directory
    bd.writefstab(params, join(params.mountBase, "etc", "fstab"));
    expect(existsSync(join(hostEtc, "fstab"))).toBe(false);
    expect(existsSync(join(params.mountBase, hostEtc.slice(1), "fstab"))).toBe(true);
  });

  it("rolls back every started node in reverse order, each one's rollbacks newest first", async () => {
    await bd.init({ ...params }, `file://${configFile("rollback")}`);
    await expect(bd.create(params)).rejects.toThrow("test_node_aaa failed on purpose");
    expect(readJson("state.json").rollback_test).toEqual([
      "never",
      "gonna",
      "give",
      "you",
      "up",
      "never",
      "gonna",
      "let",
      "you",
      "down",
    ]);
    expect(existsSync(join(stateDir(), "nodes.json"))).toBe(false);
  });

  it("releases what a node acquired in the ledger when a later node fails", async () => {
    const inside = mkdtempSync(join(buildDir, "root-"));
    const yaml = `
- test_a: {name: a, hold: ${inside}}
- test_b: {name: b, base: a, trigger_rollback: yes}
`;
    await bd.init(params, yaml);
    await expect(bd.create(params)).rejects.toThrow("b failed on purpose");
    const ledger = Ledger.open(buildDir, new Host());
    expect(ledger.entries()).toHaveLength(1);
    expect(ledger.held()).toEqual([]);
    expect(recorder.calls).toEqual(["create a", "create b", "rollback b", "rollback a"]);
  });

  it("releases on umount what a node acquired and did not release itself", async () => {
    const inside = mkdtempSync(join(buildDir, "root-"));
    await bd.init(params, `- test_a: {name: a, hold: ${inside}}`);
    await bd.create(params);
    const ledger = Ledger.open(buildDir, new Host());
    expect(ledger.held()).toHaveLength(1);
    await bd.umount(params);
    expect(ledger.held()).toEqual([]);
  });

  it("does not write a config that does not validate", async () => {
    await expect(bd.init(params, "- test_a: {name: a, colour: red}")).rejects.toThrow(
      'unknown key "colour"',
    );
    expect(existsSync(join(stateDir(), "config.json"))).toBe(false);
  });

  it("names the config file in errors", async () => {
    const file = join(buildDir, "bad.yaml");
    writeFileSync(file, "- test_a: {name: a, base: nowhere}\n");
    await expect(bd.init(params, `file://${file}`)).rejects.toMatchObject({
      message: "Edge not defined: nowhere->a",
      file,
    });
  });
});

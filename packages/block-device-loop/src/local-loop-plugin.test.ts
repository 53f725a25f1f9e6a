import { defaultParams, planBlockDevice } from "@dib/block-device";
import { describe, expect, it } from "vitest";
import { blockSizeOf, imageFileOf, imageSizeOf, localLoopPlugin } from "./local-loop-plugin.js";
import { localLoopSchema } from "./schema.js";

const params = defaultParams("/build", { imageDir: "/images", imageSize: 2 * 1024 ** 3 });
const parse = (value: unknown) => localLoopSchema.parse(value);

describe("local_loop", () => {
  it("puts <name>.raw in the image directory unless the config names one", () => {
    expect(imageFileOf(parse({ name: "image0" }), params)).toBe("/images/image0.raw");
    expect(imageFileOf(parse({ name: "disk", directory: "/data" }), params)).toBe("/data/disk.raw");
  });

  it("takes its size from the config, else from the build's image size", () => {
    expect(imageSizeOf(parse({ name: "image0", size: "5G" }), params)).toBe(5e9);
    expect(imageSizeOf(parse({ name: "image0" }), params)).toBe(2 * 1024 ** 3);
  });

  it("fails before anything is created when no size is known", () => {
    expect(() => imageSizeOf(parse({ name: "image0" }), defaultParams("/b"))).toThrow(
      "local_loop image0 has no size",
    );
  });

  it("uses 512-byte sectors unless block_size or DIB_BLOCK_SIZE says otherwise", () => {
    expect(blockSizeOf(parse({ name: "image0" }), params)).toBe(512);
    expect(blockSizeOf(parse({ name: "image0", block_size: 4096 }), params)).toBe(4096);
    expect(
      blockSizeOf(parse({ name: "image0", block_size: 4096 }), { ...params, blockSize: 512 }),
    ).toBe(512);
  });

  it("is one node with no base", () => {
    const graph = planBlockDevice("- local_loop: {name: image0}", {
      plugins: [localLoopPlugin],
      params,
    });
    expect(graph.nodes.map((n) => [n.name, n.after])).toEqual([["image0", []]]);
  });

  it("rejects a misspelt key with its path", () => {
    expect(() =>
      planBlockDevice("- local_loop: {name: image0, blocksize: 4096}", {
        plugins: [localLoopPlugin],
        params,
      }),
    ).toThrow('[0].local_loop.blocksize: unknown key "blocksize"');
  });

  it("needs losetup", () => {
    expect(localLoopPlugin.tools?.(parse({ name: "image0" }))).toEqual(["losetup"]);
  });
});

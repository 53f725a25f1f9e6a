import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchMirrorIndexes, indexUrls } from "./mirror-index.js";

/** A mirror on 127.0.0.1 whose files the test rewrites; stops with the suite. */
const files = new Map<string, string>();
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = files.get(req.url ?? "");
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("fetchMirrorIndexes", () => {
  it("names dists/<suite>/InRelease, then Release; a flat repository at its root", () => {
    expect(indexUrls("http://m/debian/", "bookworm")).toEqual([
      "http://m/debian/dists/bookworm/InRelease",
      "http://m/debian/dists/bookworm/Release",
    ]);
    expect(indexUrls("http://m/repo", undefined)).toEqual([
      "http://m/repo/InRelease",
      "http://m/repo/Release",
    ]);
  });

  it("digests each suite's index, and a new upload changes the digest", async () => {
    files.set("/debian/dists/bookworm/InRelease", "Date: 1\n");
    files.set("/debian/dists/bookworm-updates/Release", "Date: 1\n");
    const first = await fetchMirrorIndexes({
      mirror: url,
      suites: ["bookworm", "bookworm-updates"],
    });
    expect("indexes" in first && first.indexes.map((i) => i.url)).toEqual([
      `${url}/dists/bookworm/InRelease`,
      `${url}/dists/bookworm-updates/Release`,
    ]);
    files.set("/debian/dists/bookworm/InRelease", "Date: 2\n");
    const second = await fetchMirrorIndexes({
      mirror: url,
      suites: ["bookworm", "bookworm-updates"],
    });
    if (!("indexes" in first) || !("indexes" in second)) throw new Error("no index");
    expect(second.indexes[0]?.digest).not.toBe(first.indexes[0]?.digest);
    expect(second.indexes[1]?.digest).toBe(first.indexes[1]?.digest);
  });

  it("says why when an index cannot be read", async () => {
    expect(await fetchMirrorIndexes({ mirror: url, suites: ["sid"] })).toEqual({
      unavailable: `could not read ${url}/dists/sid/InRelease`,
    });
    expect(
      await fetchMirrorIndexes(
        { mirror: "http://127.0.0.1:1/none", suites: [] },
        { timeoutMs: 2000 },
      ),
    ).toEqual({ unavailable: "could not read http://127.0.0.1:1/none/InRelease" });
  });
});

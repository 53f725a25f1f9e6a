import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { elementFile, hasCommand, runScript, tempDir } from "./element-harness.js";

const work = tempDir("fetching");
afterAll(() => work.remove());

const cacheUrl = elementFile("cache-url", "bin", "cache-url");

describe("cache-url", () => {
  const lastModified = new Date("2024-01-02T03:04:05Z");
  let server: Server;
  let base = "";
  let requests: { url: string; headers: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({ url: req.url ?? "", headers: req.headers });
      if (req.url === "/file") {
        const since = req.headers["if-modified-since"];
        if (since && new Date(since) >= lastModified) {
          res.writeHead(304).end();
          return;
        }
        res.writeHead(200, { "Last-Modified": lastModified.toUTCString() }).end("payload\n");
      } else if (req.url === "/forbidden") {
        res.writeHead(403).end("no");
      } else {
        res.writeHead(404).end("missing");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const dest = join(work.dir, "cache-url", "dest");
  const fetch = (args: string[], env: Record<string, string> = {}) => {
    requests = [];
    return runScript(cacheUrl, args, env);
  };

  it("downloads a new file, then keeps it while the server says 304", async () => {
    const first = await fetch([`${base}/file`, dest]);
    expect(first.exitCode).toBe(0);
    expect(readFileSync(dest, "utf8")).toBe("payload\n");
    expect(requests[0]?.headers["if-modified-since"]).toBeUndefined();

    writeFileSync(dest, "cached\n");
    const second = await fetch([`${base}/file`, dest]);
    expect(second.exitCode).toBe(0);
    expect(requests[0]?.headers["if-modified-since"]).toBeDefined();
    expect(readFileSync(dest, "utf8")).toBe("cached\n");
  });

  it("asks caches for a fresh copy with -f", async () => {
    await fetch(["-f", `${base}/file`, join(work.dir, "cache-url", "fresh")]);
    expect(requests[0]?.headers["cache-control"]).toBe("no-cache");
    expect(requests[0]?.headers.pragma).toBe("no-cache");
  });

  it("exits 44 on 404 and 1 on other failures, leaving no file behind", async () => {
    const missing = await fetch([`${base}/nothing`, join(work.dir, "cache-url", "missing")]);
    expect(missing.exitCode).toBe(44);
    expect(existsSync(join(work.dir, "cache-url", "missing"))).toBe(false);
    const forbidden = await fetch([`${base}/forbidden`, join(work.dir, "cache-url", "forbidden")]);
    expect(forbidden.exitCode).toBe(1);
  });

  it("copies file:// URLs, and answers 44 for a missing one", async () => {
    const source = join(work.dir, "cache-url", "local.txt");
    writeFileSync(source, "local\n");
    const copied = join(work.dir, "cache-url", "copied");
    expect((await fetch([`file://${source}`, copied])).exitCode).toBe(0);
    expect(readFileSync(copied, "utf8")).toBe("local\n");
    expect((await fetch([`file://${source}.absent`, `${copied}2`])).exitCode).toBe(44);
  });

  it("fetches nothing when offline and the cache exists", async () => {
    writeFileSync(dest, "offline copy\n");
    const r = await fetch([`${base}/file`, dest], { DIB_OFFLINE: "1" });
    expect(r.exitCode).toBe(0);
    expect(requests).toEqual([]);
    expect(readFileSync(dest, "utf8")).toBe("offline copy\n");
  });
});

describe.runIf(await hasCommand("git"))(
  "source-repositories' extra-data.d/98-source-repositories",
  () => {
    const root = join(work.dir, "source-repositories");
    const upstream = join(root, "upstream");
    const hooks = join(root, "hooks");
    const cache = join(root, "cache");
    const git = (cwd: string, ...args: string[]) =>
      execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd });
    let masterSha = "";
    let tagSha = "";

    beforeAll(async () => {
      mkdirSync(upstream, { recursive: true });
      await git(upstream, "init", "-q", "-b", "master");
      writeFileSync(join(upstream, "README"), "one\n");
      await git(upstream, "add", "README");
      await git(upstream, "commit", "-q", "-m", "one");
      await git(upstream, "tag", "v1.0");
      tagSha = (await git(upstream, "rev-parse", "HEAD")).stdout;
      writeFileSync(join(upstream, "README"), "two\n");
      await git(upstream, "commit", "-q", "-am", "two");
      masterSha = (await git(upstream, "rev-parse", "HEAD")).stdout;

      mkdirSync(join(root, "tarball", "pkg-1.0"), { recursive: true });
      writeFileSync(join(root, "tarball", "pkg-1.0", "data"), "from tar\n");
      await execa("tar", [
        "-C",
        join(root, "tarball"),
        "-czf",
        join(root, "pkg.tar.gz"),
        "pkg-1.0",
      ]);
      writeFileSync(join(root, "single.txt"), "single\n");

      mkdirSync(join(hooks, "bin"), { recursive: true });
      copyFileSync(cacheUrl, join(hooks, "bin", "cache-url"));
      await execa("chmod", ["+x", join(hooks, "bin", "cache-url")]);
      writeFileSync(
        join(hooks, "source-repository-demo"),
        [
          "# name type destination location [ref]",
          "demo git /opt/demo $UPSTREAM",
          "demo-tag git /opt/demo-tag $UPSTREAM v1.0",
          `pkg tar /opt/pkg file://${root}/pkg.tar.gz`,
          `single file /opt/single.txt file://${root}/single.txt`,
          "skipped git /opt/skipped $UPSTREAM",
          "by-package package",
          "",
        ].join("\n"),
      );
    });

    const run = (mnt: string, env: Record<string, string> = {}) =>
      runScript(elementFile("source-repositories", "extra-data.d", "98-source-repositories"), [], {
        TMP_HOOKS_PATH: hooks,
        TMP_MOUNT_PATH: mnt,
        DIB_IMAGE_CACHE: cache,
        IMAGE_NAME: "demo-image",
        UPSTREAM: upstream,
        DIB_INSTALLTYPE_skipped: "package",
        ...env,
      });

    it("copies git, tar and file sources into the image and records them", async () => {
      const mnt = join(root, "mnt1");
      const r = await run(mnt);
      expect(r.stderr).not.toContain("ERROR");
      expect(r.exitCode).toBe(0);

      expect((await git(join(mnt, "opt/demo"), "rev-parse", "HEAD")).stdout).toBe(masterSha);
      expect((await git(join(mnt, "opt/demo-tag"), "rev-parse", "HEAD")).stdout).toBe(tagSha);
      expect((await git(join(mnt, "opt/demo"), "remote", "get-url", "origin")).stdout).toBe(
        upstream,
      );
      expect(readFileSync(join(mnt, "opt/demo/README"), "utf8")).toBe("two\n");
      expect(readFileSync(join(mnt, "opt/pkg/data"), "utf8")).toBe("from tar\n");
      expect(readFileSync(join(mnt, "opt/single.txt"), "utf8")).toBe("single\n");
      expect(existsSync(join(mnt, "opt/skipped"))).toBe(false);

      expect(readFileSync(join(mnt, "etc/dib-manifests/dib-manifest-git-demo-image"), "utf8")).toBe(
        `demo git /opt/demo ${upstream} ${masterSha}\ndemo-tag git /opt/demo-tag ${upstream} ${tagSha}\n`,
      );
      expect(readFileSync(join(mnt, "etc/dib-source-repositories"), "utf8")).toBe(
        "/opt/demo\n/opt/demo-tag\n/opt/pkg\n/opt/single.txt\n",
      );
    });

    it("honours DIB_REPOREF_<name>, and works offline from the cache", async () => {
      const mnt = join(root, "mnt2");
      const r = await run(mnt, {
        DIB_REPOREF_demo: "v1.0",
        DIB_OFFLINE: "1",
        UPSTREAM: "/nonexistent/but/cached",
      });
      // The location is part of the cache key, so an unknown location cannot be served offline.
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain("offline build, but /nonexistent/but/cached is not in the cache");
      const mnt3 = join(root, "mnt3");
      const ok = await run(mnt3, { DIB_REPOREF_demo: "v1.0", DIB_OFFLINE: "1" });
      expect(ok.exitCode).toBe(0);
      expect((await git(join(mnt3, "opt/demo"), "rev-parse", "HEAD")).stdout).toBe(tagSha);
    });

    it("rejects a line it cannot parse", async () => {
      const badHooks = join(root, "bad-hooks");
      mkdirSync(badHooks, { recursive: true });
      writeFileSync(join(badHooks, "source-repository-bad"), "bad svn /opt/x somewhere\n");
      const r = await runScript(
        elementFile("source-repositories", "extra-data.d", "98-source-repositories"),
        [],
        { TMP_HOOKS_PATH: badHooks, TMP_MOUNT_PATH: join(root, "mnt-bad"), DIB_IMAGE_CACHE: cache },
      );
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(
        "Couldn't parse 'bad svn /opt/x somewhere' as a source repository",
      );
    });
  },
);

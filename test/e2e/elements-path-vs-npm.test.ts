import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  type Stats,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  expectHostClean,
  type HostSnapshot,
  hostSnapshot,
  isRoot,
  rootOnlyReason,
  runCli,
} from "@dib/test";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/*
 * An element set must build the same image whether dib finds it in an ELEMENTS_PATH
 * folder or as npm packages installed in the project where dib-cli runs. The set
 * (fixtures/npm-elements, see npm-appliance/README.md) is four elements, each of which is
 * also an npm package: an OS made from the host's binaries (no bootstrap, so a build takes
 * seconds) and three elements whose hooks in eight phases, inside and outside the chroot,
 * lean on each other's element-deps, environment.d and data files and leave owners, odd
 * modes, links, a FIFO, a device node, xattrs and an ACL in the tree.
 *
 * Build A takes the set from the fixtures folder through ELEMENTS_PATH, from a folder
 * with nothing installed. Build B packs every element with `npm pack`, installs the
 * tarballs with `npm install` into a scratch project and builds there with ELEMENTS_PATH
 * empty. The two tar outputs are unpacked and compared entry by entry.
 */

// Resolved like the element folders dib reports, so the paths compare equal.
const fixtures = realpathSync(fileURLToPath(new URL("./fixtures/npm-elements", import.meta.url)));
const TOP = "npm-appliance";
/** The set, in the order resolution gives it. */
const ELEMENTS = ["npm-appliance", "npm-config", "npm-layout", "npm-tiny-os"];
const SCOPE = "@dib-e2e";

// ---- the two sources ----------------------------------------------------------------

interface PackedFile {
  path: string;
  mode: string;
  sha256: string;
}

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}

/** Every file below `dir` with its permission bits and content hash, sorted by path. */
function filesOf(dir: string): PackedFile[] {
  const out: PackedFile[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      const stats = lstatSync(path);
      if (stats.isDirectory()) walk(path);
      else
        out.push({
          path: relative(dir, path),
          mode: octal(stats.mode & 0o7777),
          sha256: sha256(readFileSync(path)),
        });
    }
  };
  walk(dir);
  return out;
}

const npmEnv = (work: string) => ({
  npm_config_update_notifier: "false",
  npm_config_cache: join(work, "npm-cache"),
});

/**
 * `npm pack`s every element of the fixtures folder as it is (each holds its package.json,
 * whose dependencies mirror its element-deps) and installs all the tarballs into a new
 * project. Returns the project folder.
 */
async function installElementPackages(work: string): Promise<string> {
  const packs = join(work, "packs");
  mkdirSync(packs);
  const packed = await execa(
    "npm",
    ["pack", "--json", "--pack-destination", packs, ...ELEMENTS.map((e) => join(fixtures, e))],
    { cwd: work, env: npmEnv(work) },
  );
  const tarballs = (JSON.parse(packed.stdout) as { filename: string }[]).map((p) =>
    join(packs, p.filename),
  );
  expect(tarballs).toHaveLength(ELEMENTS.length);

  const project = join(work, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "project", private: true }));
  // All at once: npm satisfies each package's dependency on another element package with
  // the tarball installed beside it, so no registry is asked.
  await execa("npm", ["install", "--no-audit", "--no-fund", "--offline", ...tarballs], {
    cwd: project,
    env: npmEnv(work),
  });
  return project;
}

// ---- one build ------------------------------------------------------------------------

type CliResult = Awaited<ReturnType<typeof runCli>>;

interface Build {
  /** The working directory dib-cli ran in. */
  cwd: string;
  env: Record<string, string>;
  tmpDir: string;
  tar: string;
  result: CliResult;
}

async function build(
  dir: string,
  cwd: string,
  elementsPath: string,
  imageCache: string,
): Promise<Build> {
  const tmpDir = join(dir, "tmp");
  mkdirSync(tmpDir, { recursive: true });
  const env = { ELEMENTS_PATH: elementsPath, TMP_DIR: tmpDir, DIB_IMAGE_CACHE: imageCache };
  const out = join(dir, "out", "image");
  // -n: no `base` element, so the set is exactly the four elements, all from one source.
  const result = await runCli(["-n", "-t", "tar", "--no-tmpfs", "-o", out, TOP], { cwd, env });
  if (result.exitCode !== 0) {
    throw new Error(
      `the build in ${cwd} failed (exit ${result.exitCode})\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  }
  return { cwd, env, tmpDir, tar: `${out}.tar`, result };
}

async function resolveTop(b: Build): Promise<{ name: string; path: string }[]> {
  // -n, as the build: resolve adds what a build adds.
  const resolved = await runCli(["elements", "resolve", "-n", TOP, "--json"], {
    cwd: b.cwd,
    env: b.env,
  });
  expect(resolved.stderr).toBe("");
  expect(resolved.exitCode).toBe(0);
  return JSON.parse(resolved.stdout) as { name: string; path: string }[];
}

// ---- the image, entry by entry --------------------------------------------------------

/**
 * What an output says about one path of the image: everything but its times (and a
 * directory's size, which is the filesystem's bookkeeping, not the image's content).
 */
interface Entry {
  type: "file" | "dir" | "symlink" | "fifo" | "char" | "block" | "socket";
  mode: string;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  /** A symlink's target, as written. */
  target?: string;
  /** A device node's major,minor. */
  device?: string;
  /** Every path of a file with more than one name (itself included), sorted. */
  hardLinks?: string[];
  /** Every extended attribute, ACLs (system.posix_acl_*) included: text, or 0x… hex. */
  xattrs: Record<string, string>;
}

type Tree = Record<string, Entry>;

function typeOf(stats: Stats): Entry["type"] {
  if (stats.isFile()) return "file";
  if (stats.isDirectory()) return "dir";
  if (stats.isSymbolicLink()) return "symlink";
  if (stats.isFIFO()) return "fifo";
  if (stats.isCharacterDevice()) return "char";
  if (stats.isBlockDevice()) return "block";
  return "socket";
}

function xattrValue(encoded: string): string {
  // getfattr -e hex prints 0x…; text attributes read better as text.
  const bytes = Buffer.from(encoded.replace(/^0x/, ""), "hex");
  const text = bytes.toString("utf8");
  return /^[\x20-\x7e]*$/.test(text) ? text : encoded;
}

/** Every xattr below `root` (not following symlinks), by image path. */
async function xattrsBelow(root: string): Promise<Map<string, Record<string, string>>> {
  const dump = await execa(
    "getfattr",
    ["--recursive", "--physical", "--no-dereference", "--dump", "--match=-", "-e", "hex", "."],
    { cwd: root },
  );
  const found = new Map<string, Record<string, string>>();
  let current: Record<string, string> = {};
  for (const line of dump.stdout.split("\n")) {
    const file = /^# file: (.*)$/.exec(line);
    if (file) {
      current = {};
      // `.` itself is the image root; getfattr prints paths relative to the cwd, `./` first.
      found.set(`/${(file[1] ?? "").replace(/^\.\/?/, "")}`, current);
      continue;
    }
    const attr = /^([^=]+)=(.*)$/.exec(line);
    if (attr) current[attr[1] as string] = xattrValue(attr[2] as string);
  }
  return found;
}

/** Unpacks a tar output the way an image's user would (as root: owners, modes, xattrs and ACLs kept) and describes it. */
async function unpack(tar: string, into: string): Promise<Tree> {
  mkdirSync(into);
  await execa("tar", [
    "--xattrs",
    "--xattrs-include=*",
    "--acls",
    "--numeric-owner",
    "--same-owner",
    "-xpf",
    tar,
    "-C",
    into,
  ]);
  const xattrs = await xattrsBelow(into);
  const tree: Tree = {};
  const byInode = new Map<number, string[]>();
  const walk = (path: string) => {
    const stats = lstatSync(path);
    const name = `/${relative(into, path)}`;
    const entry: Entry = {
      type: typeOf(stats),
      mode: octal(stats.mode & 0o7777),
      uid: stats.uid,
      gid: stats.gid,
      xattrs: xattrs.get(name) ?? {},
    };
    if (stats.isFile()) {
      entry.size = stats.size;
      entry.sha256 = sha256(readFileSync(path));
    }
    if (stats.isSymbolicLink()) entry.target = readlinkSync(path);
    if (stats.isCharacterDevice() || stats.isBlockDevice()) {
      // Linux's dev_t: the major in bits 8-19, the minor in bits 0-7 and 20-31.
      const major = (stats.rdev >>> 8) & 0xfff;
      const minor = (stats.rdev & 0xff) | ((stats.rdev >>> 12) & 0xfff00);
      entry.device = `${major},${minor}`;
    }
    if (!stats.isDirectory() && stats.nlink > 1) {
      byInode.set(stats.ino, [...(byInode.get(stats.ino) ?? []), name]);
    }
    tree[name] = entry;
    if (stats.isDirectory()) {
      for (const child of readdirSync(path).sort()) walk(join(path, child));
    }
  };
  walk(into);
  for (const names of byInode.values()) {
    for (const name of names) (tree[name] as Entry).hardLinks = [...names].sort();
  }
  return tree;
}

/** One line per difference, so a failure says what differs where. */
function differences(a: Tree, b: Tree): string[] {
  const out: string[] = [];
  for (const path of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const ea = a[path];
    const eb = b[path];
    if (!ea || !eb) {
      out.push(`${path}: only in ${ea ? "A (ELEMENTS_PATH)" : "B (npm)"}`);
      continue;
    }
    for (const key of new Set([...Object.keys(ea), ...Object.keys(eb)]) as Set<keyof Entry>) {
      const va = JSON.stringify(ea[key]);
      const vb = JSON.stringify(eb[key]);
      if (va !== vb) out.push(`${path}: ${key} ${va} (A) vs ${vb} (B)`);
    }
  }
  return out.sort();
}

// ---- the test -------------------------------------------------------------------------

describe.runIf(isRoot)(
  `the same elements from ELEMENTS_PATH and from npm packages${rootOnlyReason}`,
  () => {
    let work: string;
    let before: HostSnapshot;
    let project: string;
    let a: Build;
    let b: Build;
    let treeA: Tree;
    let treeB: Tree;

    beforeAll(async () => {
      // Resolved, so paths dib reports (symlinks resolved) compare equal to ours.
      work = realpathSync(mkdtempSync(join(tmpdir(), "dib-e2e-npm-elements-")));
      before = hostSnapshot();
      const imageCache = join(work, "cache");
      project = await installElementPackages(work);
      const scratch = join(work, "a", "cwd");
      mkdirSync(scratch, { recursive: true });
      a = await build(join(work, "a"), scratch, fixtures, imageCache);
      b = await build(join(work, "b"), project, "", imageCache);
      treeA = await unpack(a.tar, join(work, "a", "image"));
      treeB = await unpack(b.tar, join(work, "b", "image"));
    });

    afterAll(() => {
      if (!work) return;
      // Never delete through something a failed build left mounted below the work dir.
      const mounted = readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .map((l) => l.split(" ")[4] ?? "")
        .filter((m) => m.startsWith(`${work}/`));
      if (mounted.length > 0)
        throw new Error(`still mounted, ${work} kept:\n${mounted.join("\n")}`);
      rmSync(work, { recursive: true, force: true });
    });

    it("packs every element file into its npm package with its content and mode", () => {
      for (const element of ELEMENTS) {
        expect(filesOf(join(project, "node_modules", SCOPE, element)), element).toEqual(
          filesOf(join(fixtures, element)),
        );
      }
    });

    it("takes every element from the fixtures folder with ELEMENTS_PATH, from node_modules without", async () => {
      expect(await resolveTop(a)).toEqual(
        ELEMENTS.map((name) => ({ name, path: join(fixtures, name) })),
      );
      expect(await resolveTop(b)).toEqual(
        ELEMENTS.map((name) => ({ name, path: join(project, "node_modules", SCOPE, name) })),
      );
      const expanded = `Expanded element dependencies to: ${ELEMENTS.join(" ")}`;
      expect(a.result.stdout.split("\n")).toContain(expanded);
      expect(b.result.stdout.split("\n")).toContain(expanded);
    });

    it("leaves nothing mounted, attached or behind in TMP_DIR", () => {
      expectHostClean(before, [work]);
      expect(readdirSync(a.tmpDir)).toEqual([]);
      expect(readdirSync(b.tmpDir)).toEqual([]);
    });

    it("builds the same image both ways: every path, type, mode, owner, content, link and xattr", () => {
      // Nothing is excluded but times: this set's hooks write no build-specific data (no
      // dates, no build paths), and dib adds none to a tar output's tree.
      expect(Object.keys(treeA).length).toBeGreaterThan(50);
      expect(differences(treeA, treeB)).toEqual([]);
    });

    it("holds what every element's hooks made, so the comparison covers them", () => {
      const image = join(work, "a", "image");
      const text = (path: string) => readFileSync(join(image, path), "utf8");
      const osRelease = 'ID=npm-tiny\nNAME="npm Tiny OS"\n';

      // npm-tiny-os root.d: a root made from the host's binaries.
      expect(text("/etc/os-release")).toBe(osRelease);
      expect(treeA["/usr/bin/setfattr"]).toMatchObject({ type: "file", mode: "0755", uid: 0 });
      expect(treeA["/bin"]).toMatchObject({ type: "symlink", target: "usr/bin" });

      // npm-layout root.d, outside: a FIFO, a device node, a 0600 file.
      expect(treeA["/run/npm-layout.fifo"]).toMatchObject({ type: "fifo", mode: "0620" });
      expect(treeA["/etc/npm-layout.d/console"]).toMatchObject({
        type: "char",
        mode: "0640",
        device: "5,1",
      });
      expect(treeA["/etc/npm-layout.d/from-root"]).toMatchObject({ type: "file", mode: "0600" });

      // npm-layout install.d, in the chroot, from its environment.d and its data folder;
      // npm-config post-install.d appended to the motd; npm-appliance finalise.d removed scratch.
      expect(treeA["/etc/npm-layout.conf"]).toMatchObject({
        mode: "0640",
        sha256: sha256(
          readFileSync(join(fixtures, "npm-layout/npm-layout-files/etc/npm-layout.conf")),
        ),
        // npm-appliance post-root.d, outside.
        xattrs: { "user.npm-appliance": "post-root" },
      });
      expect(treeA["/srv/app/data"]).toMatchObject({
        type: "dir",
        mode: "2750",
        uid: 1234,
        gid: 2345,
      });
      expect(text("/srv/app/data/motd")).toBe("distro=npm-tiny\nhello from npm-config\n");
      expect(treeA["/srv/app/data/motd"]).toMatchObject({
        uid: 1234,
        gid: 2345,
        hardLinks: ["/srv/app/data/motd", "/srv/app/data/motd.hardlink"],
        xattrs: { "user.npm-layout": "installed" },
      });
      expect(treeA["/srv/app/bin/motd-link"]).toMatchObject({
        type: "symlink",
        target: "../data/motd",
      });
      expect(treeA["/srv/app/bin/show"]).toMatchObject({ type: "file", mode: "4750", uid: 0 });
      expect(treeA["/srv/app/data/scratch"]).toBeUndefined();

      // npm-config: extra-data.d → hooks tree → pre-install.d, with npm-layout's variables.
      expect(text("/etc/npm-config/greeting")).toBe("hello from npm-config\n");
      expect(text("/etc/npm-config/layout")).toBe("layout-dir=/srv/app\nlayout-owner=1234:2345\n");
      // npm-appliance post-root.d's ACL.
      expect(Object.keys(treeA["/etc/npm-config/greeting"]?.xattrs ?? {})).toContain(
        "system.posix_acl_access",
      );

      // npm-appliance finalise.d (chroot) and cleanup.d (outside).
      expect(text("/etc/npm-appliance-release")).toBe(
        `${osRelease}hello from npm-config\nlayout-dir=/srv/app\nlayout-owner=1234:2345\n`,
      );
      expect(treeA["/etc/npm-appliance-release"]).toMatchObject({ mode: "0444" });
      expect(treeA["/etc/motd"]).toMatchObject({ type: "symlink", target: "/srv/app/data/motd" });
      expect(treeA["/root"]).toMatchObject({ type: "dir", mode: "0700" });
      // finalise_base emptied /tmp; the hooks tree is not in the image.
      expect(Object.keys(treeA).filter((p) => p.startsWith("/tmp/"))).toEqual([]);
      expect(existsSync(join(image, "tmp"))).toBe(true);
    });
  },
);

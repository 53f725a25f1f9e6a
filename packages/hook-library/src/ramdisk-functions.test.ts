import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hookLibraryDir } from "./hook-library.js";

const scratch = mkdtempSync(join(tmpdir(), "dib-ramdisk-fn-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const haveBusybox = existsSync("/bin/busybox") || existsSync("/usr/bin/busybox");

/** Runs a bash snippet after sourcing ramdisk-functions, as the ramdisk element does. */
function bash(script: string, env: Record<string, string> = {}) {
  const result = spawnSync("bash", ["-c", `set -eu\nsource "$_LIB/ramdisk-functions"\n${script}`], {
    env: { PATH, LC_ALL: "C", HOME: scratch, _LIB: hookLibraryDir(), ...env },
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function write(path: string, text: string, mode = 0o644) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

/** A hooks tree as the builder merges it: init.d, binary-deps.d, udev.d, ramdisk-install.d of two elements. */
function hooksTree(name: string): string {
  const hooks = join(scratch, name);
  write(join(hooks, "init.d/20-second"), 'echo "second $(get_kernel_parameter x)"\n');
  write(join(hooks, "init.d/10-first"), "echo first\n");
  write(join(hooks, "binary-deps.d/one"), "# what element one needs\nbash\n");
  write(join(hooks, "binary-deps.d/two"), "cpio  gzip # two on one line\n");
  write(join(hooks, "udev.d/80-test.rules"), 'KERNEL=="vd*", TAG+="x"\n');
  write(
    join(hooks, "ramdisk-install.d/10-add"),
    '#!/bin/bash\necho added >"$TMP_MOUNT_PATH/etc/added"\n',
    0o755,
  );
  return hooks;
}

describe("ramdisk-functions: building a ramdisk tree", () => {
  it("copies binary-deps.d programs with their libraries, udev.d rules, runs ramdisk-install.d and writes /init from every init.d fragment in name order", () => {
    const hooks = hooksTree("hooks-a");
    const tree = join(scratch, "tree-a");
    const begin = join(scratch, "begin");
    const end = join(scratch, "end");
    write(begin, "#!/bin/bash\nget_kernel_parameter() { echo val; }\n");
    write(end, "echo end\n");
    const r = bash(
      `mkdir -p "$T"; ramdisk_skeleton "$T"; ramdisk_install_binary_deps "$T" "$H"
       ramdisk_install_udev_rules "$T" "$H"; ramdisk_write_init "$T" "$H" "$B" "$E"
       ramdisk_run_install_hooks "$T" "$H"`,
      { T: tree, H: hooks, B: begin, E: end },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const bin of ["bash", "cpio", "gzip"])
      expect(existsSync(join(tree, "bin", bin))).toBe(true);
    // The libraries ldd names are there under their own paths, the loader among them.
    const libs = execFileSync("ldd", [join(tree, "bin/bash")], { encoding: "utf8" })
      .match(/\/[^ ]+/g)
      ?.filter((l) => !l.startsWith(tree));
    expect(libs?.length).toBeGreaterThan(0);
    for (const lib of libs ?? []) expect(existsSync(join(tree, lib))).toBe(true);
    expect(readFileSync(join(tree, "lib/udev/rules.d/80-test.rules"), "utf8")).toContain("vd*");
    expect(readFileSync(join(tree, "etc/added"), "utf8")).toBe("added\n");
    const init = readFileSync(join(tree, "init"), "utf8");
    expect(init.indexOf("echo first")).toBeLessThan(init.indexOf('echo "second'));
    expect(init.indexOf('echo "second')).toBeLessThan(init.indexOf("echo end"));
    // The assembled /init runs: the fragments see the helpers the beginning defines.
    const run = spawnSync("bash", [join(tree, "init")], { encoding: "utf8" });
    expect(run.stdout).toBe("first\nsecond val\nend\n");
  });

  it("names the binary-deps.d file's program that is missing", () => {
    const hooks = join(scratch, "hooks-missing");
    write(join(hooks, "binary-deps.d/x"), "no-such-program-here\n");
    const r = bash(`mkdir -p "$T"; ramdisk_install_binary_deps "$T" "$H"`, {
      T: join(scratch, "tree-missing"),
      H: hooks,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-program-here.*not installed/);
  });

  it.runIf(haveBusybox)(
    "links every busybox applet to /bin/busybox, leaving programs already there",
    () => {
      const tree = join(scratch, "tree-bb");
      const r = bash(
        `mkdir -p "$T"; ramdisk_skeleton "$T"; ramdisk_install_binary "$T" bash; ramdisk_install_busybox "$T"`,
        {
          T: tree,
        },
      );
      expect(r.code).toBe(0);
      expect(readlinkSync(join(tree, "bin/sh"))).toBe("/bin/busybox");
      expect(readlinkSync(join(tree, "bin/mount"))).toBe("/bin/busybox");
      // bash from binary-deps.d stays a real program.
      expect(() => readlinkSync(join(tree, "bin/bash"))).toThrow();
    },
  );

  it("packs the tree as a newc cpio the same way twice, owned by root", () => {
    const tree = join(scratch, "tree-pack");
    write(join(tree, "init"), "#!/bin/sh\n", 0o755);
    write(join(tree, "etc/x"), "x\n");
    const r = bash(
      `ramdisk_pack "$T" "$O.1"; sleep 1; touch "$T/etc/x"; ramdisk_pack "$T" "$O.2"`,
      {
        T: tree,
        O: join(scratch, "pack"),
      },
    );
    expect(r.code).toBe(0);
    const listing = execFileSync(
      "sh",
      ["-c", `gzip -dc "$0" | cpio -itv --quiet`, join(scratch, "pack.1")],
      {
        encoding: "utf8",
      },
    );
    expect(listing).toMatch(/root\s+root.*\betc\/x$/m);
    expect(listing).toMatch(/-rwxr-xr-x.*\binit$/m);
    const names = execFileSync(
      "sh",
      ["-c", `gzip -dc "$0" | cpio -it --quiet`, join(scratch, "pack.2")],
      {
        encoding: "utf8",
      },
    );
    expect(names.trim().split("\n")).toEqual(["etc", "etc/x", "init"]);
  });
});

import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { installHookLibrary } from "@dib/hook-library";
import { cliEntry, isRoot, rootOnlyReason } from "@dib/test";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { elementFile, haveMinbase, minbaseSkipReason, runScript } from "./element-harness.js";
import { chrootPath, inTree, useMinbaseTree } from "./minbase-tree.js";

const reason = rootOnlyReason || minbaseSkipReason;

/**
 * The hook library ($_LIB) and svc-map against a real bookworm tree: the functions element
 * scripts call, run by hook scripts outside the tree and inside its chroot, the way the
 * builder runs them (outside: _LIB=<hooks>/dib-lib; inside: /tmp/in_target.d/dib-lib).
 */
describe.runIf(isRoot && haveMinbase)(`the hook library on a real root tree${reason}`, () => {
  const work = useMinbaseTree("hooklib");
  const root = work.root;
  const hooks = join(work.dir, "hooks");
  const bin = join(work.dir, "bin");
  let lib = "";

  beforeAll(() => {
    lib = installHookLibrary(hooks);
    mkdirSync(bin);
    // dib-cli from source on the hooks' PATH, as the builder's wrapper puts it there.
    const run = [
      process.execPath,
      "--conditions=@dib/source",
      "--import",
      import.meta.resolve("tsx"),
      cliEntry,
    ];
    writeFileSync(
      join(bin, "dib-cli"),
      `#!/bin/sh\nexec ${run.map((w) => `'${w}'`).join(" ")} "$@"\n`,
    );
    chmodSync(join(bin, "dib-cli"), 0o755);
  });

  afterAll(async () => {
    const mounts = readFileSync("/proc/self/mounts", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[1] ?? "")
      .filter((m) => m.startsWith(work.dir))
      .sort()
      .reverse();
    for (const m of mounts) await execa("umount", ["-l", m], { reject: false });
  });

  /** Writes an outside hook and runs it with the builder's outside environment. */
  async function outside(body: string, env: Record<string, string> = {}) {
    const script = join(work.dir, "outside-hook");
    writeFileSync(script, `#!/bin/bash\nset -eu\nset -o pipefail\n${body}\n`, { mode: 0o755 });
    return runScript(script, [], {
      _LIB: lib,
      TMP_HOOKS_PATH: hooks,
      TMP_MOUNT_PATH: root,
      TARGET_ROOT: root,
      PATH: `${bin}:${join(lib, "shims")}:${chrootPath}`,
      TMPDIR: "/host-tmp",
      ...env,
    });
  }

  /** Runs a hook inside the tree with the hooks folder at /tmp/in_target.d, as chroot phases do. */
  async function inside(body: string, env: Record<string, string> = {}) {
    const inTarget = join(root, "tmp/in_target.d");
    mkdirSync(inTarget, { recursive: true });
    cpSync(hooks, inTarget, { recursive: true });
    writeFileSync(join(root, "tmp/hook"), `#!/bin/bash\nset -eu\n${body}\n`, { mode: 0o755 });
    // As in the builder's chroot phases: /proc and /dev (dib-run-parts reads /dev/fd).
    await execa("mount", ["-t", "proc", "proc", join(root, "proc")]);
    await execa("mount", ["--bind", "/dev", join(root, "dev")]);
    try {
      return await chrootHook(env);
    } finally {
      await execa("umount", [join(root, "dev")]);
      await execa("umount", [join(root, "proc")]);
    }
  }

  function chrootHook(env: Record<string, string>) {
    return inTree(root, ["/tmp/hook"], {
      _LIB: "/tmp/in_target.d/dib-lib",
      TMP_HOOKS_PATH: hooks,
      ...env,
    });
  }

  it("run_in_target runs a command in the image from an outside hook, HOME=/root, no host TMPDIR", async () => {
    const r = await outside(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell text
      'source "$_LIB/img-functions"; run_in_target \'echo "$(cut -d. -f1 /etc/debian_version) $HOME ${TMPDIR:-none}"\'',
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("12 /root none");
  });

  it("the library works inside the chroot: dib_in_target, run_in_target, run_d, select_boot_kernel_initrd", async () => {
    mkdirSync(join(hooks, "acme-init.d"), { recursive: true });
    writeFileSync(join(hooks, "acme-init.d", "10-hello"), "#!/bin/bash\necho hello-from-run-d\n", {
      mode: 0o755,
    });
    mkdirSync(join(root, "boot"), { recursive: true });
    for (const f of [
      "vmlinuz-6.1.0-9-amd64",
      "initrd.img-6.1.0-9-amd64",
      "vmlinuz-6.1.0-28-amd64",
      "initrd.img-6.1.0-28-amd64",
    ]) {
      writeFileSync(join(root, "boot", f), "");
    }
    const r = await inside(
      [
        'source "$_LIB/img-functions"',
        "dib_in_target && echo in-target",
        "run_in_target 'echo home=$HOME'",
        "run_d acme-init",
        "select_boot_kernel_initrd /",
        'echo "$KERNEL $RAMDISK"',
        "die 'stop here'",
      ].join("\n"),
    );
    expect(r.stdout).toBe(
      "in-target\nhome=/root\nhello-from-run-d\nvmlinuz-6.1.0-28-amd64 initrd.img-6.1.0-28-amd64",
    );
    expect(r.stderr).toContain("Running hooks from /tmp/in_target.d/acme-init.d");
    expect(r.stderr).toContain("ERROR: stop here");
    expect(r.exitCode).toBe(1);
  });

  it("unmount_dir unmounts what a hook mounted below a folder, deepest first, but not the image's own filesystems", async () => {
    const r = await outside(
      [
        'source "$_LIB/common-functions"',
        'for d in a a/b keep; do sudo mkdir -p "$TARGET_ROOT/mnt/$d"; done',
        'sudo mount -t tmpfs one "$TARGET_ROOT/mnt/a"',
        'sudo mkdir -p "$TARGET_ROOT/mnt/a/b"',
        'sudo mount -t tmpfs two "$TARGET_ROOT/mnt/a/b"',
        'sudo mount -t tmpfs three "$TARGET_ROOT/mnt/keep"',
        'unmount_dir "$TARGET_ROOT/mnt"',
        'mountpoint -q "$TARGET_ROOT/mnt/a" && echo a-still-mounted',
        'mountpoint -q "$TARGET_ROOT/mnt/keep" && echo keep-mounted',
        'umount "$TARGET_ROOT/mnt/keep"',
      ].join("\n"),
      { DIB_MOUNTPOINTS: "/|/mnt/keep" },
    );
    expect(r.stdout).toBe("keep-mounted");
    expect(r.stderr).toContain("/mnt/keep is managed by block device; skipping");
    expect(r.exitCode).toBe(0);
  });

  it("arg_to_elements turns a disk-image-create element list into IMAGE_ELEMENT and the element array", async () => {
    const elements = join(work.dir, "arg-elements");
    for (const [name, file, text] of [
      ["base", "element-deps", "\n"],
      ["os", "element-provides", "operating-system\n"],
      ["vm", "element-deps", "block-device\n"],
      ["block-device-mbr", "element-provides", "block-device\n"],
    ] as const) {
      mkdirSync(join(elements, name), { recursive: true });
      writeFileSync(join(elements, name, file), text);
    }
    const r = await outside(
      [
        'source "$_LIB/common-functions"',
        "arg_to_elements os vm",
        'echo "$IMAGE_ELEMENT"',
        'eval "declare -A image_elements=($(get_image_element_array))"',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell text
        'echo "${image_elements[vm]}"',
      ].join("\n"),
      { ELEMENTS_PATH: elements, ARCH: "amd64", HOME: work.dir },
    );
    expect(r.stderr).toContain("Building elements: base os vm block-device-mbr");
    expect(r.stdout).toBe(`base block-device-mbr os vm\n${join(elements, "vm")}`);
  });

  it("svc-map: the extra-data.d hook merges every element's file and svc-map answers in the chroot", async () => {
    const elements = join(work.dir, "elements");
    mkdirSync(join(elements, "web"), { recursive: true });
    mkdirSync(join(elements, "db"), { recursive: true });
    writeFileSync(
      join(elements, "web", "svc-map"),
      "acme-web:\n  default: httpd\n  debian: apache2\n  ubuntu: apache2-ubuntu\n",
    );
    writeFileSync(
      join(elements, "db", "svc-map"),
      "acme-db:\n  default: mariadb\n  redhat: mariadb-server\n",
    );
    const merge = await runScript(
      elementFile("svc-map", "extra-data.d", "10-merge-svc-map-files"),
      [],
      {
        PATH: `${bin}:${chrootPath}`,
        TMP_MOUNT_PATH: root,
        IMAGE_ELEMENT: "web db svc-map",
        IMAGE_ELEMENT_YAML: `db: ${elements}/db\nsvc-map: ${elementFile("svc-map")}\nweb: ${elements}/web\n`,
        ELEMENTS_PATH: elements,
        DISTRO_NAME: "debian",
        HOME: work.dir,
      },
    );
    expect(merge.stderr).toBe("");
    expect(merge.exitCode).toBe(0);
    expect(readFileSync(join(root, "usr/share/svc-map/services"), "utf8")).toBe(
      "acme-db: mariadb\nacme-web: apache2\n",
    );
    cpSync(elementFile("svc-map", "bin", "svc-map"), join(root, "usr/local/bin/svc-map"));
    const mapped = await execa("chroot", [root, "svc-map", "acme-web", "acme-db", "other"]);
    expect(mapped.stdout).toBe("apache2\nmariadb\nother");
    // A unit of the service's own name (a source install) wins over the mapping.
    writeFileSync(join(root, "lib/systemd/system/acme-web.service"), "[Unit]\n");
    expect((await execa("chroot", [root, "svc-map", "acme-web"])).stdout).toBe("acme-web");
  });
});

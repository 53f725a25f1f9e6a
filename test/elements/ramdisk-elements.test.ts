import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { elementFile, lazyTempDir, runScript } from "./element-harness.js";

/*
 * The outside hooks of ramdisk-base, baremetal and iso run for real on a tree laid out as
 * a finished image's: what they take out of it, and how they refuse when it is not there.
 * (Building and booting ramdisks and ISOs: test/e2e/ramdisk-image-create.test.ts.)
 */

const work = lazyTempDir("ramdisk-elements");
beforeAll(() => work.create());
afterAll(() => work.remove());

/** A hooks tree with select-boot-kernel-initrd in bin/, as the builder merges it. */
function hooksWithSelect(dir: string): string {
  const hooks = join(dir, "hooks");
  mkdirSync(join(hooks, "bin"), { recursive: true });
  symlinkSync(
    elementFile("select-boot-kernel-initrd", "bin", "select-boot-kernel-initrd"),
    join(hooks, "bin", "select-boot-kernel-initrd"),
  );
  return hooks;
}

function write(path: string, text: string) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

describe("baremetal cleanup.d/99-extract-kernel-and-initrd", () => {
  it("copies the newest kernel with an initrd as NAME.vmlinuz and NAME.initrd, following /boot symlinks", async () => {
    const dir = join(work.dir, "bm");
    const root = join(dir, "root");
    write(join(root, "boot/vmlinuz-6.1.0-9-amd64"), "old kernel");
    write(join(root, "boot/initrd.img-6.1.0-9-amd64"), "old initrd");
    write(join(root, "boot/vmlinuz-6.1.0-21-amd64"), "new kernel");
    write(join(root, "boot/initrd.img-6.1.0-21-amd64"), "new initrd");
    // A kernel without an initrd is not the one the image boots.
    write(join(root, "boot/vmlinuz-6.1.0-30-amd64"), "lonely kernel");
    symlinkSync("vmlinuz-6.1.0-21-amd64", join(root, "boot/vmlinuz"));
    const r = await runScript(
      elementFile("baremetal", "cleanup.d", "99-extract-kernel-and-initrd"),
      [],
      {
        TARGET_ROOT: root,
        IMAGE_NAME: join(dir, "out", "image"),
        TMP_HOOKS_PATH: hooksWithSelect(dir),
      },
    );
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, "out/image.vmlinuz"), "utf8")).toBe("new kernel");
    expect(readFileSync(join(dir, "out/image.initrd"), "utf8")).toBe("new initrd");
  });

  it("fails when the image has no kernel and initrd pair", async () => {
    const dir = join(work.dir, "bm-none");
    write(join(dir, "root/boot/vmlinuz-6.1.0-9-amd64"), "k");
    const r = await runScript(
      elementFile("baremetal", "cleanup.d", "99-extract-kernel-and-initrd"),
      [],
      {
        TARGET_ROOT: join(dir, "root"),
        IMAGE_NAME: join(dir, "image"),
        TMP_HOOKS_PATH: hooksWithSelect(dir),
      },
    );
    expect(r.exitCode).not.toBe(0);
    expect(existsSync(join(dir, "image.vmlinuz"))).toBe(false);
  });
});

describe("ramdisk-base cleanup.d/99-extract-ramdisk-files", () => {
  it("moves /tmp/kernel and /tmp/ramdisk out of the tree as NAME.kernel and NAME.initramfs", async () => {
    const dir = join(work.dir, "rb");
    write(join(dir, "root/tmp/kernel"), "K");
    write(join(dir, "root/tmp/ramdisk"), "R");
    const r = await runScript(
      elementFile("ramdisk-base", "cleanup.d", "99-extract-ramdisk-files"),
      [],
      {
        TARGET_ROOT: join(dir, "root"),
        IMAGE_NAME: join(dir, "out/rd"),
      },
    );
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, "out/rd.kernel"), "utf8")).toBe("K");
    expect(readFileSync(join(dir, "out/rd.initramfs"), "utf8")).toBe("R");
    // Moved, not copied: they do not stay in the tree (or in a tar of it).
    expect(existsSync(join(dir, "root/tmp/ramdisk"))).toBe(false);
  });

  it("names the ramdisk elements when no ramdisk was built", async () => {
    const dir = join(work.dir, "rb-none");
    mkdirSync(join(dir, "root/tmp"), { recursive: true });
    const r = await runScript(
      elementFile("ramdisk-base", "cleanup.d", "99-extract-ramdisk-files"),
      [],
      {
        TARGET_ROOT: join(dir, "root"),
        IMAGE_NAME: join(dir, "rd"),
      },
    );
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/ramdisk or dracut-ramdisk/);
  });
});

describe("iso cleanup.d/100-build-iso", () => {
  it("says what to build first when there is neither a ramdisk nor a baremetal kernel", async () => {
    const dir = join(work.dir, "iso-none");
    mkdirSync(dir, { recursive: true });
    const r = await runScript(elementFile("iso", "cleanup.d", "100-build-iso"), [], {
      IMAGE_NAME: join(dir, "image"),
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/build a ramdisk or add baremetal/);
  });
});

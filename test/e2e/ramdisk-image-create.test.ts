import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  cliEntry,
  expectHostClean,
  type HostSnapshot,
  hostSnapshot,
  isRoot,
  rootOnlyReason,
  runCli,
  seedBootstrapCache,
  testImageCache,
} from "@dib/test";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/*
 * One real Debian bookworm ramdisk build through the ramdisk-image-create bin, with a test
 * element whose init.d fragment prints a marker, the iso element and baremetal; then the
 * kernel and initramfs boot directly, and the ISO from a CD-ROM under SeaBIOS and OVMF,
 * each to the marker, and baremetal's kernel and initrd to Debian's initramfs shell. About
 * 1.5 minutes of build (the bookworm bootstrap is shared with the other e2e tests through
 * the image cache) and under a minute of TCG boots.
 */

const repo = fileURLToPath(new URL("../..", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/elements", import.meta.url));
const tsxLoader = import.meta.resolve("tsx");
const MARKER = "DIB-RAMDISK-MARKER init.d ran";

/** The members of a gzip'd cpio archive. */
function cpioNames(file: string): string[] {
  return execFileSync("sh", ["-c", 'gzip -dc "$0" | cpio -it --quiet', file], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  })
    .trim()
    .split("\n");
}

function cpioFile(file: string, member: string): string {
  return execFileSync(
    "sh",
    ["-c", 'gzip -dc "$0" | cpio -i --quiet --to-stdout "$1"', file, member],
    {
      encoding: "utf8",
    },
  );
}

async function bootToMarker(args: string[]) {
  await bootTo(args, MARKER);
}

async function bootTo(args: string[], expected: string | RegExp) {
  const result = await runCli([
    "boot-test",
    ...args,
    "--accel",
    "tcg",
    "--expect",
    typeof expected === "string" ? expected : expected.source,
    "--timeout",
    "400",
  ]);
  expect(result.stdout + result.stderr).toMatch(/boot-test passed/);
  expect(result.exitCode).toBe(0);
}

describe.runIf(isRoot)(`ramdisk-image-create: Debian ramdisk and ISO${rootOnlyReason}`, () => {
  let work: string;
  let out: string;
  let snapshot: HostSnapshot;

  beforeAll(() => {
    seedBootstrapCache(testImageCache);
    work = mkdtempSync(join(tmpdir(), "dib-e2e-ramdisk-"));
    out = join(work, "out", "rd");
    snapshot = hostSnapshot();
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it("builds NAME.kernel, NAME.initramfs and NAME.iso with the ramdisk-image-create bin", async () => {
    // The bin is dib-cli's entry point under DIB's name, as npm links it.
    const bin = join(work, "ramdisk-image-create");
    symlinkSync(cliEntry, bin);
    const tmpDir = join(work, "tmp");
    mkdirSync(tmpDir);
    const result = await execa(
      process.execPath,
      [
        "--conditions=@dib/source",
        "--import",
        tsxLoader,
        bin,
        "-o",
        out,
        "ramdisk-test-marker",
        "iso",
        "baremetal",
      ],
      {
        reject: false,
        cwd: repo,
        env: {
          ELEMENTS_PATH: `${fixtures}:${join(repo, "elements")}`,
          DIB_IMAGE_CACHE: testImageCache,
          DIB_RELEASE: "bookworm",
          DIB_DEPLOY_ISO_KERNEL_CMDLINE_ARGS: "console=ttyS0,115200",
          TMP_DIR: tmpDir,
        },
      },
    );
    expect(String(result.stderr)).not.toMatch(/^error /m);
    expect(result.exitCode).toBe(0);
    // The ramdisk element is the main element, added first, as in DIB.
    expect(String(result.stdout)).toMatch(
      /^Expanded element dependencies to: .*\bramdisk\b.*\bramdisk-base\b/m,
    );
    for (const suffix of [".kernel", ".initramfs", ".iso", ".vmlinuz", ".initrd"]) {
      expect(existsSync(out + suffix)).toBe(true);
      // Reported like any other output of the build.
      expect(String(result.stdout)).toContain(`Image file ${out}${suffix} created`);
    }
    // No disk image: a ramdisk build converts nothing.
    expect(existsSync(`${out}.qcow2`)).toBe(false);

    const names = cpioNames(`${out}.initramfs`);
    expect(names).toContain("init");
    expect(names).toContain("bin/busybox");
    // binary-deps.d of the ramdisk element: bash and modprobe, real programs.
    expect(names).toContain("bin/bash");
    expect(names).toContain("bin/modprobe");
    // DIB_RAMDISK_MODULES of the test element: the virtio drivers and what they need.
    expect(names.some((n) => /^lib\/modules\/[^/]+\/.*virtio_net\.ko/.test(n))).toBe(true);
    expect(names.some((n) => /^lib\/modules\/[^/]+\/modules\.dep$/.test(n))).toBe(true);
    const init = cpioFile(`${out}.initramfs`, "init");
    expect(init).toContain("# ---- init.d/50-ramdisk-test-marker ----");
    expect(init).toContain("start_iscsi_target");

    // One El Torito image for BIOS (isolinux), one for UEFI (the GRUB FAT image).
    const torito = execFileSync("xorriso", ["-indev", `${out}.iso`, "-report_el_torito", "plain"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(torito).toMatch(/El Torito boot img\s*:\s*1\s+BIOS/);
    expect(torito).toMatch(/El Torito boot img\s*:\s*2\s+UEFI/);
    expect(readdirSync(tmpDir)).toEqual([]);
    expectHostClean(snapshot, [work]);
  });

  it("the kernel and initramfs boot directly to the init.d fragment's marker", async () => {
    await bootToMarker(["--kernel", `${out}.kernel`, "--initrd", `${out}.initramfs`]);
  });

  it("baremetal's NAME.vmlinuz and NAME.initrd are the tree's matching pair: its initramfs runs on that kernel", async () => {
    // No disk here, so Debian's initramfs stops at its own shell for want of a root=.
    await bootTo(["--kernel", `${out}.vmlinuz`, "--initrd", `${out}.initrd`], /\(initramfs\)/);
  });

  it("the ISO boots from a CD-ROM under SeaBIOS (isolinux) to the marker", async () => {
    await bootToMarker(["--cdrom", `${out}.iso`]);
  });

  it("the ISO boots from a CD-ROM under OVMF (GRUB EFI) to the marker", async () => {
    await bootToMarker(["--cdrom", `${out}.iso`, "--uefi"]);
  });
});

/**
 * dracut-ramdisk (with baremetal) is a second bookworm build of about three minutes;
 * DIB_TEST_DRACUT_RAMDISK=0 skips it.
 */
const dracutWanted = process.env.DIB_TEST_DRACUT_RAMDISK !== "0";

describe.runIf(isRoot && dracutWanted)(
  `ramdisk-image-create --ramdisk-element dracut-ramdisk${dracutWanted ? "" : " (skipped: DIB_TEST_DRACUT_RAMDISK=0)"}`,
  () => {
    let work: string;

    beforeAll(() => {
      seedBootstrapCache(testImageCache);
      work = mkdtempSync(join(tmpdir(), "dib-e2e-dracut-"));
    });

    afterAll(() => {
      rmSync(work, { recursive: true, force: true });
    });

    it("builds a dracut ramdisk that boots to the init.d marker; baremetal takes the image's kernel and initrd out", async () => {
      const snapshot = hostSnapshot();
      const out = join(work, "out", "rd");
      const tmpDir = join(work, "tmp");
      mkdirSync(tmpDir);
      const result = await runCli(
        [
          "build",
          "--ramdisk",
          "--ramdisk-element",
          "dracut-ramdisk",
          "-o",
          out,
          "ramdisk-test-marker",
          "baremetal",
        ],
        {
          env: {
            ELEMENTS_PATH: `${fixtures}:${join(repo, "elements")}`,
            DIB_IMAGE_CACHE: testImageCache,
            DIB_RELEASE: "bookworm",
            TMP_DIR: tmpDir,
          },
        },
      );
      expect(result.stderr).not.toMatch(/^error /m);
      expect(result.exitCode).toBe(0);
      for (const suffix of [".kernel", ".initramfs", ".vmlinuz", ".initrd"]) {
        expect(existsSync(out + suffix)).toBe(true);
      }
      expectHostClean(snapshot, [work]);
      await bootToMarker(["--kernel", `${out}.kernel`, "--initrd", `${out}.initramfs`]);
    });
  },
);

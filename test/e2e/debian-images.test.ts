import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BootTestOptions, bootTest } from "@dib/boot-test";
import { architecture } from "@dib/elements";
import { Host } from "@dib/host";
import {
  expectHostClean,
  hostSnapshot,
  isRoot,
  rootOnlyReason,
  runCli,
  testImageCache,
} from "@dib/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The point of dib: `dib-cli debian-minimal vm` gives an image that boots. Seven images are
 * built with the real builder from the Debian mirror and booted in QEMU (KVM when it works,
 * else TCG), and a devuser logs in on the serial console. The bookworm MBR build also writes
 * every output type, each checked by the tool that consumes it; bullseye and trixie also
 * write a tar, checked for their release.
 *
 * The builds run one after another in the background while the images already built boot:
 * a TCG boot keeps one core busy and a build mostly one, so on two cores this nearly halves
 * the time. All builds share one image cache, so each release is bootstrapped once and every
 * package downloaded once.
 *
 * Runs as root by default; DIB_TEST_BOOT=0 skips it, and a list of image names
 * (`DIB_TEST_BOOT=bookworm-mbr,trixie-mbr`) runs only those.
 */
interface ImageCase {
  name: string;
  release: string;
  /** `-a`: an image of another architecture, built through QEMU's user-mode emulator. */
  arch?: "arm64";
  layout: string;
  uefi: boolean;
  /** The efi-lvm layout has a fixed 40G root partition. */
  imageSizeGb?: string;
  /** Whether growroot can grow / (a partition, not an LV). */
  grows: boolean;
  types: string[];
  /** Elements added to this one build (to test them without a build of their own). */
  extraElements?: string[];
}

const ALL_TYPES = ["qcow2", "raw", "vhd", "vmdk", "vdi", "tar", "tgz", "squashfs", "docker", "oci"];
const DOCKER_TARGET = "dib-e2e/bookworm:test";

const CASES: ImageCase[] = [
  {
    name: "bookworm-mbr",
    release: "bookworm",
    layout: "block-device-mbr",
    uefi: false,
    grows: true,
    types: ALL_TYPES,
  },
  {
    name: "bookworm-gpt",
    release: "bookworm",
    layout: "block-device-gpt",
    uefi: false,
    grows: true,
    types: ["qcow2"],
    // baremetal's kernel and initrd, and iso's NAME-boot.iso made of them, boot this disk.
    extraElements: ["baremetal", "iso"],
  },
  {
    name: "bookworm-efi",
    release: "bookworm",
    layout: "block-device-efi",
    uefi: true,
    grows: true,
    types: ["qcow2"],
  },
  {
    name: "bookworm-efi-lvm",
    release: "bookworm",
    layout: "block-device-efi-lvm",
    uefi: true,
    imageSizeGb: "42",
    grows: false,
    types: ["qcow2"],
  },
  {
    name: "bullseye-mbr",
    release: "bullseye",
    layout: "block-device-mbr",
    uefi: false,
    // debootstrap installs cloud-initramfs-growroot on bullseye, which grows the partition
    // in the initramfs and leaves the filesystem to growroot.service.
    grows: true,
    types: ["qcow2", "tar"],
  },
  {
    name: "trixie-mbr",
    release: "trixie",
    layout: "block-device-mbr",
    uefi: false,
    grows: true,
    types: ["qcow2", "tar"],
  },
  {
    // Built on this amd64 host through qemu-user and booted under TCG on QEMU's virt board
    // with AAVMF; boot-test reads the architecture from the image's ESP. Its build starts
    // first, beside the amd64 builds (see beforeAll); its test runs last.
    name: "bookworm-arm64-efi",
    release: "bookworm",
    arch: "arm64",
    layout: "block-device-efi",
    uefi: true,
    grows: true,
    types: ["qcow2", "tar"],
  },
];

const wanted = (process.env.DIB_TEST_BOOT ?? "").trim();
const selected =
  wanted === "0"
    ? []
    : wanted === "" || wanted === "1" || wanted === "all"
      ? CASES
      : CASES.filter((c) => wanted.split(",").includes(c.name));
const cache = testImageCache;
const fixtureElements = fileURLToPath(new URL("./fixtures/elements", import.meta.url));
const skipReason = !isRoot
  ? rootOnlyReason
  : selected.length === 0
    ? " (skipped: DIB_TEST_BOOT=0)"
    : "";

const RELEASE_VERSIONS: Record<string, string> = { bullseye: "11", bookworm: "12", trixie: "13" };

interface Built {
  out: string;
  seconds: number;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Only the tests that wait for it report a rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** /proc/cmdline without the BOOT_IMAGE= a boot loader adds. */
function withoutBootImage(cmdline: string): string {
  return cmdline
    .trim()
    .split(/\s+/)
    .filter((w) => !w.startsWith("BOOT_IMAGE="))
    .join(" ");
}

/** binfmt_misc as the host has it: mounted or not, and its entries. */
function binfmtState(): { mounted: boolean; entries: string[] } {
  const dir = "/proc/sys/fs/binfmt_misc";
  const mounted = existsSync(join(dir, "register"));
  return { mounted, entries: mounted ? readdirSync(dir).sort() : [] };
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
}

describe.runIf(isRoot && selected.length > 0)(`Debian images${skipReason}`, () => {
  // Made in beforeAll: a skipped describe still runs this body, and would leave it behind.
  let work = "";
  const host = new Host();
  const builds = new Map<string, Promise<Built>>();

  async function build(c: ImageCase): Promise<Built> {
    const tmpDir = join(work, `${c.name}-tmp`);
    mkdirSync(tmpDir, { recursive: true });
    const out = join(work, c.name, "image");
    mkdirSync(join(work, c.name));
    const args = [
      "debian-minimal",
      "vm",
      c.layout,
      "devuser",
      "growroot",
      "dhcp-all-interfaces",
      "xattr-file",
      ...(c.extraElements ?? []),
      "-t",
      c.types.join(","),
      "-o",
      out,
    ];
    if (c.imageSizeGb) args.push("--image-size", c.imageSizeGb);
    if (c.arch) args.push("-a", c.arch);
    if (c.types.includes("docker")) args.push("--docker-target", DOCKER_TARGET, "--checksum");
    const before = hostSnapshot();
    const binfmtBefore = c.arch ? binfmtState() : undefined;
    const started = Date.now();
    const built = await runCli(args, {
      env: {
        DIB_RELEASE: c.release,
        DIB_IMAGE_CACHE: cache,
        ELEMENTS_PATH: fixtureElements,
        TMP_DIR: tmpDir,
        DIB_DEV_USER_USERNAME: "devuser",
        DIB_DEV_USER_PASSWORD: "devuser",
        DIB_DEV_USER_PWDLESS_SUDO: "yes",
        // DIB's own knob for tgz and the OCI layer: pigz packs on both cores, where gzip -9
        // alone took three minutes of the all-types build.
        DIB_GZIP_BIN: "pigz",
      },
    });
    if (built.exitCode !== 0) {
      throw new Error(`${c.name}: build failed (${built.exitCode})\n${built.stderr.slice(-4000)}`);
    }
    expectHostClean(before, [tmpDir]);
    // A foreign build's binfmt_misc entry (and mount) are gone again. (Only it touches
    // binfmt_misc; amd64 builds run alongside, so theirs are not compared.)
    if (binfmtBefore) {
      expect(binfmtState(), `${c.name}: binfmt_misc after the build`).toEqual(binfmtBefore);
    }
    return { out, seconds: Math.round((Date.now() - started) / 1000) };
  }

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "dib-e2e-images-"));
    // One build at a time per architecture, in the background; each test waits for its own.
    // The emulated arm64 build runs beside the amd64 ones: its emulator is one process at a
    // time for a quarter of an hour, and the amd64 builds and boots use the other core.
    // (Its test comes last, so the amd64 images boot as soon as they are built.)
    const chains = new Map<string, Promise<unknown>>();
    for (const c of selected) {
      const chain = c.arch ?? "amd64";
      const next = (chains.get(chain) ?? Promise.resolve()).then(() => build(c));
      // A failed build fails its own test; the next build still runs.
      next.catch(() => undefined);
      builds.set(c.name, next);
      chains.set(
        chain,
        next.catch(() => undefined),
      );
    }
  });

  afterAll(async () => {
    await Promise.allSettled(builds.values());
    const before = { loops: [], mounts: [] };
    if (!work) return;
    expectHostClean(before, [work]);
    rmSync(work, { recursive: true, force: true });
  });

  for (const c of selected) {
    // The kernel command line the image's own boot loader gave, read in its disk boot.
    const diskCmdline = deferred<string>();

    it(`${c.name}: builds, boots to a login prompt, and a devuser logs in`, async () => {
      try {
        await bootsFromDisk();
      } finally {
        diskCmdline.reject(new Error(`${c.name} did not boot from its disk`));
      }
    });

    const bootsFromDisk = async () => {
      const { out, seconds } = await (builds.get(c.name) as Promise<Built>);
      const image = `${out}.qcow2`;
      expect(statSync(image).size).toBeGreaterThan(100 * 1024 * 1024);

      const result = await bootTest({
        host,
        image,
        uefi: c.uefi,
        login: { user: "devuser", password: "devuser" },
        resize: c.grows ? "+2G" : undefined,
        // An emulated arm64 guest takes several times as long as an amd64 one.
        timeoutMs: c.arch ? 1_500_000 : 600_000,
        commands: [
          "findmnt -n -o SOURCE,FSTYPE,SIZE /",
          "cat /etc/fstab",
          "df -B1 --output=size / | tail -n 1",
          "lsblk -b -n -d -o SIZE /dev/vda",
          // DHCP on QEMU's user network gives 10.0.2.15; wait for it, at most 60 s (minbase
          // has no iproute2: hostname -I lists the addresses)
          "for i in $(seq 60); do hostname -I | grep -q '[0-9]' && break; sleep 1; done; echo addresses: $(hostname -I)",
          "sudo -n true && echo sudo-ok",
          ". /etc/os-release; echo version=$VERSION_ID",
          "cat /proc/cmdline",
          "uname -m",
        ],
      });
      const tail = result.consoleTail.join("\n");
      expect(result.ok, `${result.failure?.message ?? ""}\n${tail}`).toBe(true);
      // Nothing said the architecture: boot-test read it from the image.
      expect(result.arch).toBe(c.arch ?? "amd64");
      const [root, fstab, rootSize, diskSize, addr, sudo, version, cmdline, machine] =
        result.commandResults;
      expect(machine?.output.trim()).toBe(architecture(c.arch ?? "amd64").machine);
      diskCmdline.resolve(withoutBootImage(cmdline?.output ?? ""));
      expect(root?.output).toMatch(/^\S+\s+(ext4|xfs)/);
      expect(fstab?.output).toMatch(/^LABEL=\S+\s+\/\s+(ext4|xfs)\s/m);
      if (c.grows) {
        // The overlay is 2 GiB bigger than the image: / grew past the whole original disk and
        // took most of the new space (the ESP and filesystem overhead take the rest).
        const GiB = 1024 * 1024 * 1024;
        const fsBytes = Number(rootSize?.output.trim());
        const diskBytes = Number(diskSize?.output.trim());
        expect(fsBytes).toBeGreaterThan(diskBytes - 2 * GiB);
        expect(fsBytes).toBeGreaterThan(diskBytes - GiB);
      }
      expect(addr?.output).toMatch(/addresses: .*\b10\.0\.2\.\d+/);
      expect(sudo?.output).toContain("sudo-ok");
      expect(version?.output).toContain(`version=${RELEASE_VERSIONS[c.release]}`);
      process.stdout.write(
        `${c.name}: built in ${seconds} s, login prompt after ${result.secondsToPrompt} s (${result.accel})\n`,
      );
    };

    if (c.extraElements?.includes("baremetal")) {
      // What a boot of this image's kernel and initrd without its boot loader must show.
      const bootsTheDisk = async (label: string, options: Partial<BootTestOptions>) => {
        const { out } = await (builds.get(c.name) as Promise<Built>);
        const result = await bootTest({
          host,
          image: `${out}.qcow2`,
          login: { user: "devuser", password: "devuser" },
          timeoutMs: 600_000,
          commands: [
            "findmnt -n -o SOURCE,FSTYPE,LABEL /",
            "cat /proc/cmdline",
            ". /etc/os-release; echo version=$VERSION_ID",
          ],
          ...options,
        });
        const tail = result.consoleTail.join("\n");
        expect(result.ok, `${result.failure?.message ?? ""}\n${tail}`).toBe(true);
        const [root, cmdline, version] = result.commandResults;
        // / is the disk's root filesystem (the only disk: vda), found by its label.
        expect(root?.output).toMatch(/^\/dev\/vda\d+\s+(ext4|xfs)\s+cloudimg-rootfs/);
        expect(version?.output).toContain(`version=${RELEASE_VERSIONS[c.release]}`);
        process.stdout.write(
          `${c.name}: ${label}: login prompt after ${result.secondsToPrompt} s (${result.accel})\n`,
        );
        return cmdline?.output.trim() ?? "";
      };

      it(`${c.name}: baremetal's kernel and initrd boot the disk directly, with its boot loader's command line`, async () => {
        const { out } = await (builds.get(c.name) as Promise<Built>);
        const append = await diskCmdline.promise;
        expect(append).toMatch(/\broot=\S+/);
        expect(append).toMatch(/\bconsole=ttyS0/);
        const cmdline = await bootsTheDisk(`direct kernel boot (${append})`, {
          kernel: { kernel: `${out}.vmlinuz`, initrd: `${out}.initrd`, append },
        });
        // No boot loader ran: QEMU gave the kernel exactly this command line.
        expect(cmdline).toBe(append);
      });

      if (c.extraElements.includes("iso")) {
        it(`${c.name}: NAME-boot.iso holds the kernel, initrd and command line of the disk's boot loader`, async () => {
          const { out } = await (builds.get(c.name) as Promise<Built>);
          const iso = `${out}-boot.iso`;
          const read = (path: string) => {
            const dir = mkdtempSync(join(work, "iso-"));
            // xorriso reports on stderr even when all is well
            execFileSync(
              "xorriso",
              ["-osirrox", "on", "-indev", iso, "-extract", path, join(dir, "f")],
              {
                stdio: ["ignore", "ignore", "pipe"],
              },
            );
            return join(dir, "f");
          };
          sh("cmp", [read("/vmlinuz"), `${out}.vmlinuz`]);
          sh("cmp", [read("/initrd"), `${out}.initrd`]);
          const append = await diskCmdline.promise;
          const isolinux = readFileSync(read("/isolinux/isolinux.cfg"), "utf8");
          expect(isolinux).toContain(`APPEND initrd=/initrd ${append}\n`);
          const grub = readFileSync(read("/boot/grub/grub.cfg"), "utf8");
          expect(grub).toContain(`linux /vmlinuz ${append}\n`);
        });

        for (const uefi of [false, true]) {
          const firmware = uefi ? "OVMF" : "SeaBIOS";
          it(`${c.name}: NAME-boot.iso boots the disk from CD-ROM under ${firmware}`, async () => {
            const { out } = await (builds.get(c.name) as Promise<Built>);
            const cmdline = await bootsTheDisk(`boot ISO under ${firmware}`, {
              cdrom: `${out}-boot.iso`,
              uefi,
            });
            // The ISO's boot loader (isolinux, or GRUB on the ISO) ran, not the disk's: it
            // names the kernel at the ISO's root.
            expect(cmdline).toMatch(/\bBOOT_IMAGE=\/vmlinuz(\s|$)/);
            expect(
              withoutBootImage(cmdline)
                .replace(/\binitrd=\/initrd\s*/, "")
                .trim(),
            ).toBe(await diskCmdline.promise);
          });
        }
      }
    }

    if (c.types.includes("tar")) {
      it(`${c.name}: the tar holds the ${c.release} tree with numeric owners, xattrs and the image's own /dev`, async () => {
        const { out } = await (builds.get(c.name) as Promise<Built>);
        const tar = `${out}.tar`;
        // /etc/os-release is a link to ../usr/lib/os-release
        const osRelease = sh("tar", ["-xOf", tar, "./usr/lib/os-release"]);
        expect(osRelease).toContain(`VERSION_CODENAME=${c.release}`);
        const listing = sh("tar", ["-tvf", tar, "--numeric-owner", "./etc/os-release"]);
        expect(listing).toMatch(/^\S+ 0\/0 /);
        const xattrs = sh("tar", [
          "--xattrs",
          "--xattrs-include=*",
          "-tvvf",
          tar,
          "./etc/dib-e2e-xattr",
        ]);
        expect(xattrs).toContain("user.dib-e2e");
        const extracted = mkdtempSync(join(work, "xattr-"));
        sh("tar", [
          "--xattrs",
          "--xattrs-include=*",
          "-xf",
          tar,
          "-C",
          extracted,
          "./etc/dib-e2e-xattr",
        ]);
        expect(
          sh("getfattr", [
            "--only-values",
            "-n",
            "user.dib-e2e",
            join(extracted, "etc/dib-e2e-xattr"),
          ]),
        ).toBe("kept");
        // DIB packs while the host's /dev is still bound into the tree; ours holds the image's.
        const dev = sh("tar", ["-tf", tar, "./dev"])
          .split("\n")
          .filter((l) => l !== "");
        expect(dev.filter((p) => /^\.\/dev\/(loop|vd|sd|nvme|kvm|mapper)/.test(p))).toEqual([]);
        expect(dev.length).toBeLessThan(40);
        if (c.arch) {
          // The programs are the target's, and the emulator that ran them is not in the image.
          const bin = mkdtempSync(join(work, "bin-"));
          sh("tar", ["-xf", tar, "-C", bin, "./usr/bin/bash"]);
          expect(sh("file", ["-b", join(bin, "usr/bin/bash")])).toMatch(
            /ELF 64-bit LSB .*ARM aarch64/,
          );
          const all = sh("tar", ["-tf", tar]);
          expect(all.split("\n").filter((p) => /qemu-.*(static|binfmt)/.test(p))).toEqual([]);
        }
      });
    }
  }

  const everything = selected.find((c) => c.types.length === ALL_TYPES.length);
  if (everything) {
    describe(`${everything.name}: every output type, checked by its consumer`, () => {
      const file = async (ext: string) => `${(await builds.get(everything.name))?.out}.${ext}`;

      it("writes every type of -t, each with .md5 and .sha256 files that verify", async () => {
        const base = (await builds.get(everything.name))?.out ?? "";
        const exts = [
          "qcow2",
          "raw",
          "vhd",
          "vmdk",
          "vdi",
          "tar",
          "tgz",
          "squash",
          "docker",
          "oci",
        ];
        for (const ext of exts) {
          const f = `${base}.${ext}`;
          expect(statSync(f).size, f).toBeGreaterThan(1024 * 1024);
          const dir = join(base, "..");
          sh("sh", [
            "-c",
            `cd "$1" && md5sum -c "$2.md5" && sha256sum -c "$2.sha256"`,
            "check",
            dir,
            `image.${ext}`,
          ]);
        }
      });

      it("writes disk formats qemu-img checks, each converting back to the raw output byte for byte", async () => {
        const raw = await file("raw");
        const rawSize = statSync(raw).size;
        for (const [ext, format] of [
          ["qcow2", "qcow2"],
          ["vhd", "vpc"],
          ["vmdk", "vmdk"],
          ["vdi", "vdi"],
        ] as const) {
          const f = await file(ext);
          const info = JSON.parse(sh("qemu-img", ["info", "--output=json", f]));
          expect(info.format, f).toBe(format);
          if (format !== "vpc") {
            sh("qemu-img", ["check", f]);
            expect(info["virtual-size"]).toBe(rawSize);
          } else {
            // vpc rounds the size up to whole CHS cylinders
            expect(info["virtual-size"]).toBeGreaterThanOrEqual(rawSize);
          }
          const back = join(work, `back-${ext}.raw`);
          sh("qemu-img", ["convert", "-f", format, "-O", "raw", f, back]);
          sh("cmp", ["-n", String(rawSize), raw, back]);
          rmSync(back);
        }
      });

      it("writes a tgz holding the same entries as the tar", async () => {
        const tarList = sh("tar", ["-tf", await file("tar")]);
        const tgzList = sh("tar", ["-tzf", await file("tgz")]);
        expect(tgzList).toBe(tarList);
      });

      it("writes a squashfs that unsquashfs lists, with the image's /dev only", async () => {
        const listing = sh("unsquashfs", ["-l", await file("squash")]).split("\n");
        expect(listing).toContain("squashfs-root/etc/os-release");
        expect(listing).toContain("squashfs-root/boot");
        expect(listing.filter((l) => /^squashfs-root\/dev\/(loop|vd|sd|kvm)/.test(l))).toEqual([]);
      });

      it("writes docker and OCI archives that skopeo reads under the docker target", async () => {
        const docker = JSON.parse(
          sh("skopeo", ["inspect", `docker-archive:${await file("docker")}:${DOCKER_TARGET}`]),
        );
        expect(docker).toMatchObject({
          Name: "docker.io/dib-e2e/bookworm",
          Os: "linux",
          Architecture: "amd64",
        });
        const oci = JSON.parse(sh("skopeo", ["inspect", `oci-archive:${await file("oci")}:test`]));
        expect(oci).toMatchObject({ Os: "linux", Architecture: "amd64" });
        expect(oci.Layers).toHaveLength(1);
      });
    });
  }
});

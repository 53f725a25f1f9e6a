import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bootTest } from "../../packages/boot-test/src/index.js";
import { Host } from "../../packages/host/src/index.js";
import { expectHostClean, hostSnapshot, isRoot, rootOnlyReason, runCli } from "../src/index.js";

/**
 * The point of dib: `dib-cli debian-minimal vm` gives an image that boots. Each image is
 * built with the real builder from the Debian mirror, booted in QEMU (KVM when it works,
 * else TCG), and a devuser logs in on the serial console.
 *
 * Heavy (minutes per image): runs when DIB_TEST_BOOT is set (.ci/run sets it), or only the
 * images named in it (`DIB_TEST_BOOT=bookworm-mbr,trixie-mbr`).
 */
interface BootCase {
  name: string;
  release: string;
  layout: string;
  uefi: boolean;
  /** The efi-lvm layout has a fixed 40G root partition. */
  imageSizeGb?: string;
  /** Whether growroot can grow / (a partition, not an LV). */
  grows: boolean;
}

const CASES: BootCase[] = [
  {
    name: "bookworm-mbr",
    release: "bookworm",
    layout: "block-device-mbr",
    uefi: false,
    grows: true,
  },
  {
    name: "bookworm-gpt",
    release: "bookworm",
    layout: "block-device-gpt",
    uefi: false,
    grows: true,
  },
  {
    name: "bookworm-efi",
    release: "bookworm",
    layout: "block-device-efi",
    uefi: true,
    grows: true,
  },
  {
    name: "bookworm-efi-lvm",
    release: "bookworm",
    layout: "block-device-efi-lvm",
    uefi: true,
    imageSizeGb: "42",
    grows: false,
  },
  {
    name: "bullseye-mbr",
    release: "bullseye",
    layout: "block-device-mbr",
    uefi: false,
    grows: true,
  },
  { name: "trixie-mbr", release: "trixie", layout: "block-device-mbr", uefi: false, grows: true },
];

const wanted = (process.env.DIB_TEST_BOOT ?? "").trim();
const selected =
  wanted === ""
    ? []
    : wanted === "1" || wanted === "all"
      ? CASES
      : CASES.filter((c) => wanted.split(",").includes(c.name));
const cache = process.env.DIB_IMAGE_CACHE ?? "/var/cache/dib-test/image-create";
const skipReason = !isRoot
  ? rootOnlyReason
  : selected.length === 0
    ? " (skipped: set DIB_TEST_BOOT=1, or a list of image names, to build and boot images)"
    : "";

describe.runIf(isRoot && selected.length > 0)(`bootable Debian images${skipReason}`, () => {
  const work = mkdtempSync(join(tmpdir(), "dib-e2e-boot-"));
  const host = new Host();
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  for (const c of selected) {
    it(`${c.name}: builds, boots to a login prompt, and a devuser logs in`, async () => {
      const before = hostSnapshot();
      const tmpDir = join(work, `${c.name}-tmp`);
      mkdirSync(tmpDir, { recursive: true });
      const out = join(work, c.name);
      const args = [
        "debian-minimal",
        "vm",
        c.layout,
        "devuser",
        "growroot",
        "dhcp-all-interfaces",
        "-o",
        out,
      ];
      if (c.imageSizeGb) args.push("--image-size", c.imageSizeGb);
      const started = Date.now();
      const built = await runCli(args, {
        env: {
          DIB_RELEASE: c.release,
          DIB_IMAGE_CACHE: cache,
          TMP_DIR: tmpDir,
          DIB_DEV_USER_USERNAME: "devuser",
          DIB_DEV_USER_PASSWORD: "devuser",
          DIB_DEV_USER_PWDLESS_SUDO: "yes",
        },
      });
      expect(
        built.stderr.split("\n").filter((l) => l.startsWith("error ")),
        built.stderr.slice(-3000),
      ).toEqual([]);
      expect(built.exitCode).toBe(0);
      const image = `${out}.qcow2`;
      expect(statSync(image).size).toBeGreaterThan(100 * 1024 * 1024);
      expectHostClean(before, [tmpDir]);
      const buildSeconds = Math.round((Date.now() - started) / 1000);

      const result = await bootTest({
        host,
        image,
        uefi: c.uefi,
        login: { user: "devuser", password: "devuser" },
        resize: c.grows ? "+2G" : undefined,
        timeoutMs: 600_000,
        commands: [
          "findmnt -n -o SOURCE,FSTYPE,SIZE /",
          "cat /etc/fstab",
          "df -B1 --output=size / | tail -n 1",
          "lsblk -b -n -d -o SIZE /dev/vda",
          // DHCP on QEMU's user network gives 10.0.2.15; wait for it, at most 60 s
          "for i in $(seq 60); do ip -4 -o addr show scope global | grep -q inet && break; sleep 1; done; ip -4 -o addr show scope global",
          "sudo -n true && echo sudo-ok",
        ],
      });
      const tail = result.consoleTail.join("\n");
      expect(result.ok, `${result.failure?.message ?? ""}\n${tail}`).toBe(true);
      const [root, fstab, rootSize, diskSize, addr, sudo] = result.commandResults;
      expect(root?.output).toMatch(/^\S+\s+(ext4|xfs)/);
      expect(fstab?.output).toMatch(/^LABEL=\S+\s+\/\s+(ext4|xfs)\s/m);
      if (c.grows) {
        // the overlay is 2 GiB bigger than the image; growroot gave / most of it
        const fsBytes = Number(rootSize?.output.trim());
        const diskBytes = Number(diskSize?.output.trim());
        expect(fsBytes).toBeGreaterThan(diskBytes - 600 * 1024 * 1024);
      }
      expect(addr?.output).toMatch(/inet 10\.0\.2\.\d+/);
      expect(sudo?.output).toContain("sudo-ok");
      process.stdout.write(
        `${c.name}: built in ${buildSeconds} s, login prompt after ${result.secondsToPrompt} s (${result.accel})\n`,
      );
    });
  }
});

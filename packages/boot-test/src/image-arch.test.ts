import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findTool, Host } from "@dib/host";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archOfEfiListing, findEsp, imageArch } from "./image-arch.js";

describe("archOfEfiListing", () => {
  it("reads the architecture from the removable-media loader first", () => {
    expect(archOfEfiListing("::/EFI/BOOT/BOOTAA64.EFI\n::/EFI/debian/grubaa64.efi\n")).toBe(
      "arm64",
    );
    expect(archOfEfiListing("::/EFI/BOOT/BOOTX64.EFI\n::/EFI/BOOT/grubx64.efi\n")).toBe("amd64");
    expect(archOfEfiListing("::/EFI/debian/shimaa64.efi\n")).toBe("arm64");
    expect(archOfEfiListing("::/EFI/\n")).toBeUndefined();
  });
});

describe("findEsp", () => {
  it("finds an MBR partition of type 0xEF", () => {
    const head = Buffer.alloc(512);
    head.writeUInt16LE(0xaa55, 510);
    head[446 + 16 + 4] = 0xef;
    head.writeUInt32LE(2048, 446 + 16 + 8);
    head.writeUInt32LE(4096, 446 + 16 + 12);
    expect(findEsp(head)).toEqual({ startSector: 2048, sectors: 4096 });
    head[446 + 16 + 4] = 0x83;
    expect(findEsp(head)).toBeUndefined();
  });
});

const tools = ["qemu-img", "sfdisk", "mformat", "mmd", "mcopy", "mdir"];
const missing = tools.filter((t) => !findTool(t));

describe.skipIf(missing.length > 0)(
  `imageArch on real images${missing.length ? ` (missing ${missing.join(", ")})` : ""}`,
  // qemu-img, sfdisk and mtools on real files: seconds alone, more on a busy CI host.
  { timeout: 60_000 },
  () => {
    const host = new Host();
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "dib-image-arch-test-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    // A GPT disk like block-device-efi's: an ESP (FAT, made with mtools at its offset), a
    // BIOS boot partition, and root; the loader file named as GRUB installs it.
    async function efiDisk(name: string, loader: string | undefined, format: string) {
      const raw = join(dir, `${name}.raw`);
      await host.run(["truncate", "-s", "80M", raw]);
      await host.run(["sfdisk", "-q", raw], {
        input:
          "label: gpt\nstart=2048, size=64M, type=uefi\nsize=1M, type=21686148-6449-6E6F-744E-656564454649\ntype=linux\n",
      });
      const esp = `${raw}@@${2048 * 512}`;
      await host.run(["mformat", "-i", esp, "-T", String((64 * 1024 * 1024) / 512), "-F", "::"]);
      await host.run(["mmd", "-i", esp, "::/EFI", "::/EFI/BOOT"]);
      if (loader) {
        const file = join(dir, loader);
        writeFileSync(file, "MZ not really a loader");
        await host.run(["mcopy", "-i", esp, file, `::/EFI/BOOT/${loader}`]);
      }
      if (format === "raw") return raw;
      const image = join(dir, `${name}.${format}`);
      await host.run(["qemu-img", "convert", "-f", "raw", "-O", format, raw, image]);
      return image;
    }

    it("tells an arm64 qcow2 from an amd64 one by the loader on the ESP", async () => {
      const arm = await efiDisk("arm", "BOOTAA64.EFI", "qcow2");
      expect(await imageArch(host, arm, "qcow2", dir)).toBe("arm64");
      const x86 = await efiDisk("x86", "BOOTX64.EFI", "raw");
      expect(await imageArch(host, x86, "raw", dir)).toBe("amd64");
    });

    it("cannot tell from an ESP without a loader, or a disk without an ESP", async () => {
      expect(
        await imageArch(host, await efiDisk("empty", undefined, "qcow2"), "qcow2", dir),
      ).toBeUndefined();
      const plain = join(dir, "plain.raw");
      await host.run(["truncate", "-s", "8M", plain]);
      await host.run(["sfdisk", "-q", plain], { input: "label: dos\ntype=83\n" });
      expect(await imageArch(host, plain, "raw", dir)).toBeUndefined();
    });
  },
);

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** The bookworm minbase tarball scripts/make-test-minbase.sh makes (mmdebstrap, minbase). */
export const minbaseTarball =
  process.env.DIB_TEST_MINBASE_TAR ?? "/var/cache/dib-dev/bookworm-minbase.tar";

/**
 * Seeds an image cache with the minbase tarball under the name the debootstrap element
 * gives its default bookworm bootstrap (the key its root.d hashes), so a test build skips
 * the bootstrap download. Does nothing without the tarball or zstd, or when the cache
 * already holds that bootstrap.
 */
export function seedBootstrapCache(cache: string): void {
  if (!existsSync(minbaseTarball) || !existsSync("/usr/bin/zstd")) return;
  const key = [
    "distro=debian",
    "release=bookworm",
    "arch=amd64",
    "tool=mmdebstrap",
    "mirror=http://deb.debian.org/debian",
    "components=main",
    "include=apt,tzdata",
    "keyring=",
    "extra_args=",
    "script=",
  ].join("\n");
  const hash = execFileSync("sha256sum", { input: `${key}\n`, encoding: "utf8" }).slice(0, 12);
  const file = join(cache, `debootstrap-debian-bookworm-amd64-${hash}.tar.zst`);
  if (existsSync(file)) return;
  mkdirSync(cache, { recursive: true });
  execFileSync("sh", [
    "-c",
    `zstd -q -T0 <"$1" >"$2.tmp.$$" && mv "$2.tmp.$$" "$2"`,
    "seed",
    minbaseTarball,
    file,
  ]);
}

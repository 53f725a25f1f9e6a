import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { execa } from "execa";

/**
 * An apt archive laid out like Ubuntu's, served on 127.0.0.1 for the ubuntu-minimal build
 * test: `dists/<codename>{,-updates,-security,-backports}/{main,universe}/binary-amd64`,
 * signed with a key made for the test. Ubuntu's archive cannot be reached from here, so the
 * packages are Debian's, republished: the indexes of a Debian release (checked against
 * Debian's signed InRelease) are split into main (required/important/standard) and universe
 * (the rest), and every pool file is fetched from Debian's mirror on first request and kept
 * in `cacheDir` (apt checks each against the hashes in the index). One package is made here:
 * `linux-image-generic`, Ubuntu's kernel metapackage, depending on Debian's kernel. This
 * proves how the elements use a mirror, its pockets, components and keyring; it proves
 * nothing about Ubuntu's own packages.
 */
export interface LocalArchive {
  url: string;
  /** The binary OpenPGP keyring whose key signs the archive. */
  keyring: string;
  /** Paths requested so far. */
  requests: string[];
  /** Serves a local file at `http://127.0.0.1:PORT<urlPath>` too (e.g. a cloud image). */
  serve: (urlPath: string, file: string) => void;
  stop: () => Promise<void>;
}

export interface LocalArchiveOptions {
  /** Where Debian's indexes and pool files are kept between runs. */
  cacheDir: string;
  /** A scratch folder for the key and the signed indexes (removed by the caller). */
  workDir: string;
  /** The Ubuntu codename the archive pretends to be. */
  codename: string;
  /** The Debian release whose packages fill it. */
  debianRelease: string;
  debianMirror?: string;
  debianSecurityMirror?: string;
}

const ARCH = "amd64";
const DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
/** Indexes older than this are fetched again (superseded pool files disappear upstream). */
const INDEX_MAX_AGE_MS = 12 * 3600 * 1000;

interface Stanza {
  text: string;
  fields: Map<string, string>;
}

function parseStanzas(text: string): Stanza[] {
  return text
    .split(/\n\n+/)
    .filter((t) => t.trim() !== "")
    .map((t) => {
      const fields = new Map<string, string>();
      for (const line of t.split("\n")) {
        const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
        if (m?.[1] !== undefined) fields.set(m[1], m[2] ?? "");
      }
      return { text: t.trim(), fields };
    });
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

async function download(url: string): Promise<Buffer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const response = await fetch(url);
      if (response.status === 404) throw new Error(`${url}: 404`);
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    } catch (error) {
      lastError = error;
      if (String(error).includes(": 404")) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  throw lastError;
}

function writeAtomic(file: string, data: Buffer | string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** A Debian suite's binary-amd64 Packages for main, verified against its signed InRelease. */
async function debianPackages(mirror: string, suite: string, cacheDir: string): Promise<string> {
  const dir = join(cacheDir, "debian-indexes", suite);
  const cached = join(dir, "Packages");
  if (existsSync(cached) && Date.now() - statSync(cached).mtimeMs < INDEX_MAX_AGE_MS) {
    return readFileSync(cached, "utf8");
  }
  const inRelease = await download(`${mirror}/dists/${suite}/InRelease`);
  mkdirSync(dir, { recursive: true });
  const inReleaseFile = join(dir, "InRelease");
  writeFileSync(inReleaseFile, inRelease);
  await execa("gpgv", ["--keyring", DEBIAN_KEYRING, inReleaseFile]);
  const sums = inRelease.toString("utf8").split("SHA256:")[1]?.split("\n") ?? [];
  const listed = (path: string) =>
    sums
      .find((l) => l.trim().endsWith(` ${path}`))
      ?.trim()
      .split(/\s+/)[0];
  // Suites publish Packages.gz, Packages.xz or plain Packages; take the first one listed.
  let text: string | undefined;
  for (const name of ["Packages.gz", "Packages.xz", "Packages"]) {
    const path = `main/binary-${ARCH}/${name}`;
    const expected = listed(path);
    if (expected === undefined) continue;
    const data = await download(`${mirror}/dists/${suite}/${path}`);
    if (sha256(data) !== expected) throw new Error(`${suite}: ${path} does not match InRelease`);
    if (name === "Packages.gz") text = gunzipSync(data).toString("utf8");
    else if (name === "Packages.xz")
      text = (await execa("xz", ["--decompress", "--stdout"], { input: data })).stdout;
    else text = data.toString("utf8");
    break;
  }
  if (text === undefined) throw new Error(`${suite}: InRelease lists no main/binary-${ARCH} index`);
  writeAtomic(cached, text);
  return text;
}

/** A `linux-image-generic` metapackage depending on Debian's kernel, as a .deb. */
async function kernelMetapackage(workDir: string): Promise<{ file: string; stanza: string }> {
  const root = join(workDir, "linux-image-generic");
  mkdirSync(join(root, "DEBIAN"), { recursive: true });
  const version = "1.0~dibtest";
  writeFileSync(
    join(root, "DEBIAN/control"),
    [
      "Package: linux-image-generic",
      `Version: ${version}`,
      `Architecture: ${ARCH}`,
      "Maintainer: dib tests <dib@localhost>",
      "Depends: linux-image-amd64",
      "Section: kernel",
      "Priority: optional",
      "Description: Generic Linux kernel image (dib test archive)",
      " Ubuntu's kernel metapackage, standing for Debian's kernel in the test archive.",
      "",
    ].join("\n"),
  );
  const file = join(workDir, `linux-image-generic_${version}_${ARCH}.deb`);
  await execa("dpkg-deb", ["--root-owner-group", "--build", root, file]);
  const data = readFileSync(file);
  const control = readFileSync(join(root, "DEBIAN/control"), "utf8").trimEnd();
  const stanza = [
    control.split("\nDescription:")[0],
    `Filename: pool/dibtest/linux-image-generic_${version}_${ARCH}.deb`,
    `Size: ${data.length}`,
    `SHA256: ${sha256(data)}`,
    `Description:${control.split("\nDescription:")[1]}`,
  ].join("\n");
  return { file, stanza };
}

/** Starts the archive; `stop()` closes the server. */
export async function startLocalArchive(options: LocalArchiveOptions): Promise<LocalArchive> {
  const debianMirror = options.debianMirror ?? "http://deb.debian.org/debian";
  const securityMirror = options.debianSecurityMirror ?? "http://deb.debian.org/debian-security";
  const { cacheDir, workDir, codename, debianRelease } = options;
  // Readable by all: apt checks signatures as the unprivileged _apt user.
  mkdirSync(workDir, { recursive: true, mode: 0o755 });

  // The signing key, in a keyring of its own.
  const gnupgHome = join(workDir, "gnupg");
  mkdirSync(gnupgHome, { recursive: true, mode: 0o700 });
  const gpg = (args: string[], input?: string) =>
    execa("gpg", ["--homedir", gnupgHome, "--batch", "--quiet", ...args], {
      ...(input === undefined ? {} : { input }),
    });
  // gpg starts an agent for the keyring; it must not outlive the signing, even on failure.
  const keyring = join(workDir, "dib-test-archive.gpg");
  const kernel = await kernelMetapackage(workDir);
  const files = new Map<string, Buffer>();
  try {
    await gpg([
      "--pinentry-mode",
      "loopback",
      "--passphrase",
      "",
      "--quick-gen-key",
      "dib test archive <dib-test-archive@localhost>",
      "ed25519",
      "sign",
      "never",
    ]);
    const exported = await execa(
      "gpg",
      ["--homedir", gnupgHome, "--batch", "--export", "dib-test-archive@localhost"],
      { encoding: "buffer" },
    );
    writeFileSync(keyring, exported.stdout);

    const pockets: { suite: string; debian?: { mirror: string; suite: string } }[] = [
      { suite: codename, debian: { mirror: debianMirror, suite: debianRelease } },
      {
        suite: `${codename}-updates`,
        debian: { mirror: debianMirror, suite: `${debianRelease}-updates` },
      },
      {
        suite: `${codename}-security`,
        debian: { mirror: securityMirror, suite: `${debianRelease}-security` },
      },
      { suite: `${codename}-backports` },
    ];

    // Every file under dists/, by URL path.
    for (const pocket of pockets) {
      const components: Record<"main" | "universe", string[]> = { main: [], universe: [] };
      if (pocket.debian !== undefined) {
        const text = await debianPackages(pocket.debian.mirror, pocket.debian.suite, cacheDir);
        for (const stanza of parseStanzas(text)) {
          const priority = stanza.fields.get("Priority") ?? "optional";
          const inMain = ["required", "important", "standard"].includes(priority);
          components[inMain ? "main" : "universe"].push(stanza.text);
        }
      }
      if (pocket.suite === codename) components.main.push(kernel.stanza);
      const sums: string[] = [];
      for (const [component, stanzas] of Object.entries(components)) {
        const packages = stanzas.length === 0 ? "" : `${stanzas.join("\n\n")}\n`;
        // apt looks an index up by its uncompressed name, then fetches a compressed form.
        const plain = Buffer.from(packages);
        const gz = gzipSync(plain);
        for (const [rel, data] of [
          [`${component}/binary-${ARCH}/Packages`, plain],
          [`${component}/binary-${ARCH}/Packages.gz`, gz],
        ] as const) {
          files.set(`/dists/${pocket.suite}/${rel}`, data);
          sums.push(` ${sha256(data)} ${data.length} ${rel}`);
        }
      }
      const release = [
        "Origin: Ubuntu",
        "Label: Ubuntu",
        `Suite: ${pocket.suite}`,
        `Codename: ${codename}`,
        `Date: ${new Date().toUTCString()}`,
        `Architectures: ${ARCH}`,
        "Components: main universe",
        `Description: dib test archive laid out like Ubuntu's; packages from Debian ${debianRelease}`,
        "SHA256:",
        ...sums,
        "",
      ].join("\n");
      files.set(`/dists/${pocket.suite}/Release`, Buffer.from(release));
      const signed = await gpg(
        ["--local-user", "dib-test-archive@localhost", "--clearsign"],
        release,
      );
      files.set(`/dists/${pocket.suite}/InRelease`, Buffer.from(`${signed.stdout}\n`));
    }
  } finally {
    await execa("gpgconf", ["--homedir", gnupgHome, "--kill", "all"], { reject: false });
  }

  const requests: string[] = [];
  const poolDir = join(cacheDir, "pool");
  // Pool files are fetched once, even when apt asks for the same one twice at a time.
  const inflight = new Map<string, Promise<string>>();
  const poolFile = (path: string): Promise<string> => {
    const local = join(poolDir, path);
    if (existsSync(local)) return Promise.resolve(local);
    let pending = inflight.get(path);
    if (pending === undefined) {
      // Debian's security archive keeps its pool under pool/updates/.
      const upstream = path.startsWith("pool/updates/")
        ? `${securityMirror}/${path}`
        : `${debianMirror}/${path}`;
      pending = download(upstream).then((data) => {
        writeAtomic(local, data);
        return local;
      });
      pending.finally(() => inflight.delete(path)).catch(() => {});
      inflight.set(path, pending);
    }
    return pending;
  };

  const extra = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const full = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(full);
    const extraFile = extra.get(full);
    if (extraFile !== undefined) {
      res.writeHead(200, { "Content-Length": statSync(extraFile).size });
      createReadStream(extraFile).pipe(res);
      return;
    }
    // The archive lives under /ubuntu, as on Ubuntu's mirrors.
    if (!full.startsWith("/ubuntu/")) {
      res.writeHead(404).end();
      return;
    }
    const path = full.slice("/ubuntu".length);
    const known = files.get(path);
    if (known !== undefined) {
      res.writeHead(200, { "Content-Length": known.length });
      res.end(req.method === "HEAD" ? undefined : known);
      return;
    }
    if (path === `/pool/dibtest/${kernel.file.split("/").pop()}`) {
      res.writeHead(200, { "Content-Length": statSync(kernel.file).size });
      createReadStream(kernel.file).pipe(res);
      return;
    }
    if (!path.startsWith("/pool/") || path.includes("..")) {
      res.writeHead(404).end();
      return;
    }
    poolFile(path.slice(1)).then(
      (local) => {
        res.writeHead(200, { "Content-Length": statSync(local).size });
        if (req.method === "HEAD") res.end();
        else createReadStream(local).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ubuntu`,
    keyring,
    requests,
    serve: (urlPath, file) => extra.set(urlPath, file),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "@dib/test";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ElementsCommandOptions,
  registerElementInfoCommand,
  registerElementsCommand,
  registerInternalPackageInstallsCommand,
} from "./elements.js";

const root = mkdtempSync(join(tmpdir(), "dib-cli-elements-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, content: string, mode = 0o644) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

// ELEMENTS_PATH folder with an OS, an app and a block-device layout.
const elementsDir = join(root, "elements");
write(join(elementsDir, "os", "element-provides"), "operating-system\n");
write(join(elementsDir, "os", "README.md"), "# os\n\nA pretend operating system.\n");
write(join(elementsDir, "app", "element-deps"), "os\n# tools come from a package\ntools\n");
write(join(elementsDir, "app", "install.d", "50-app"), "#!/bin/bash\n", 0o755);
write(
  join(elementsDir, "app", "package-installs.yaml"),
  "curl:\nbuild-essential:\n  build-only:\nfirmware:\n  arch: amd64, arm64\n",
);
write(join(elementsDir, "broken", "package-installs.yaml"), "x:\n  phase: sometime\n");
// An element package installed in the project.
const project = join(root, "project");
write(
  join(project, "node_modules", "@acme", "dib-element-tools", "package.json"),
  JSON.stringify({ name: "@acme/dib-element-tools", version: "1.2.3", dib: { element: "tools" } }),
);
write(
  join(project, "node_modules", "@acme", "dib-element-tools", "README.md"),
  "# tools\n\nHandy tools.\n",
);
write(
  join(project, "node_modules", "@acme", "dib-element-tools", "package-installs.yaml"),
  "jq:\n",
);

function program(options: ElementsCommandOptions = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const cli = new Command("dib-cli")
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  const opts = { searchFrom: [project], env: { ELEMENTS_PATH: elementsDir }, ...options };
  registerElementsCommand(cli, opts);
  registerElementInfoCommand(cli, opts);
  registerInternalPackageInstallsCommand(cli, opts);
  return {
    run: async (...args: string[]) => {
      await cli.parseAsync(args, { from: "user" });
      return out.join("");
    },
    err,
  };
}

describe("dib-cli elements", () => {
  it("lists every element with where it comes from and what it does", async () => {
    const lines = (await program().run("elements", "list")).trimEnd().split("\n");
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`^app +${esc(join(elementsDir, "app"))}$`));
    expect(lines[1]).toMatch(new RegExp(`^broken +${esc(join(elementsDir, "broken"))}$`));
    expect(lines[2]).toMatch(
      new RegExp(`^os +${esc(join(elementsDir, "os"))} +A pretend operating system\\.$`),
    );
    expect(lines[3]).toMatch(/^tools +@acme\/dib-element-tools@1\.2\.3 +Handy tools\.$/);
    // Columns line up.
    expect(new Set(lines.map((l) => l.indexOf(l.trim().split(/ +/)[1] ?? "")))).toHaveProperty(
      "size",
      1,
    );
  });

  it("lists as JSON", async () => {
    const list = JSON.parse(await program().run("elements", "list", "--json")) as {
      name: string;
      from: string;
    }[];
    expect(list.map((e) => [e.name, e.from])).toEqual([
      ["app", join(elementsDir, "app")],
      ["broken", join(elementsDir, "broken")],
      ["os", join(elementsDir, "os")],
      ["tools", "@acme/dib-element-tools@1.2.3"],
    ]);
  });

  it("resolves names to JSON in resolution order", async () => {
    const json = JSON.parse(await program().run("elements", "resolve", "-n", "app", "--json"));
    expect(json).toEqual([
      { name: "app", path: join(elementsDir, "app") },
      { name: "os", path: join(elementsDir, "os") },
      { name: "tools", path: join(project, "node_modules", "@acme", "dib-element-tools") },
    ]);
  });

  it("takes --elements-path over ELEMENTS_PATH", async () => {
    const other = join(root, "other");
    write(join(other, "solo", "element-provides"), "operating-system\n");
    const text = await program().run("elements", "resolve", "-n", "solo", "--elements-path", other);
    expect(text).toBe(
      `Building elements: solo\nsolo  ${join(other, "solo")}\n(operating-system is provided by solo)\n`,
    );
  });

  it("fails with a DibError that suggests close names", async () => {
    await expect(program().run("elements", "resolve", "-n", "ap", "--json")).rejects.toMatchObject({
      code: "DIB_ELEMENT_NOT_FOUND",
      message: "Element 'ap' not found",
      hint: expect.stringContaining("Did you mean 'app'?"),
    });
  });

  it("adds what a build adds: base, and vm's block-device element for the architecture", async () => {
    const defaults = join(root, "defaults");
    write(join(defaults, "base", "element-deps"), "\n");
    write(join(defaults, "vm", "element-deps"), "block-device\n");
    write(join(defaults, "block-device-mbr", "element-provides"), "block-device\n");
    write(join(defaults, "block-device-efi", "element-provides"), "block-device\n");
    const names = async (...args: string[]) =>
      (
        JSON.parse(
          await program({ env: { ELEMENTS_PATH: `${defaults}:${elementsDir}` } }).run(
            "elements",
            "resolve",
            "--json",
            ...args,
          ),
        ) as { name: string }[]
      ).map((e) => e.name);
    expect(await names("os", "vm", "-a", "amd64")).toEqual([
      "base",
      "block-device-mbr",
      "os",
      "vm",
    ]);
    expect(await names("os", "vm", "-a", "arm64")).toEqual([
      "base",
      "block-device-efi",
      "os",
      "vm",
    ]);
    expect(await names("os", "vm", "block-device-efi", "-n", "-a", "amd64")).toEqual([
      "block-device-efi",
      "os",
      "vm",
    ]);
    const text = await program({
      env: { ELEMENTS_PATH: `${defaults}:${elementsDir}`, ARCH: "amd64" },
    }).run("elements", "resolve", "os", "vm");
    expect(text.split("\n")[0]).toBe("Building elements: base os vm block-device-mbr");
  });

  it("says why a retired DIB element is gone and what replaced it", async () => {
    await expect(
      program().run("elements", "resolve", "-n", "modprobe-blacklist"),
    ).rejects.toMatchObject({
      code: "DIB_ELEMENT_RETIRED",
      message: expect.stringContaining("Element 'modprobe-blacklist' was retired"),
      hint: expect.stringContaining("modprobe"),
    });
    await expect(program().run("elements", "show", "dib-python")).rejects.toMatchObject({
      code: "DIB_ELEMENT_RETIRED",
    });
  });

  it("shows what an element holds", async () => {
    const text = await program().run("elements", "show", "app");
    expect(text).toContain("element-deps:     os tools\n");
    expect(text).toContain("  install.d       50-app\n");
    expect(text).toContain("package-installs: curl build-essential firmware");
    const json = JSON.parse(await program().run("elements", "show", "app", "--json"));
    expect(json).toMatchObject({
      name: "app",
      deps: ["os", "tools"],
      hooks: { "install.d": [{ name: "50-app" }] },
    });
  });

  it("reports element overrides at debug level", async () => {
    const p = program({
      env: { ELEMENTS_PATH: `${elementsDir}:${elementsDir}-shadow`, DIB_DEBUG_TRACE: "1" },
    });
    mkdirSync(join(`${elementsDir}-shadow`, "os"), { recursive: true });
    await p.run("elements", "list");
    expect(p.err.join("")).toBe(
      `debug: element os: ${join(elementsDir, "os")} overrides ${join(`${elementsDir}-shadow`, "os")}\n`,
    );
  });
});

describe("dib-cli element-info", () => {
  it("prints the expanded names, or the shell code with --env", async () => {
    expect(await program().run("element-info", "--expand-dependencies", "app")).toBe(
      "app os tools\n",
    );
    const env = await program().run("element-info", "--env", "app");
    expect(env).toContain("export IMAGE_ELEMENT='app os tools'\n");
    expect(env).toContain(`export IMAGE_ELEMENT_YAML='app: ${join(elementsDir, "app")}\n`);
    expect(env).toContain("function get_image_element_array {");
  });
});

describe("dib-cli internal package-installs-squash", () => {
  it("writes DIB's JSON for the named elements, finding packages too", async () => {
    const outfile = join(root, "package-installs.json");
    await program({ env: { ARCH: "arm64" } }).run(
      "internal",
      "package-installs-squash",
      "--elements",
      "app os tools",
      "--path",
      elementsDir,
      outfile,
    );
    expect(JSON.parse(readFileSync(outfile, "utf8"))).toEqual({
      "install.d": {
        install: [
          ["curl", "app"],
          ["build-essential", "app"],
          ["firmware", "app"],
          ["jq", "tools"],
        ],
        uninstall: [["build-essential", "app"]],
      },
    });
  });

  it("takes element folders from IMAGE_ELEMENT_YAML when the build exported it", async () => {
    const outfile = join(root, "from-yaml.json");
    const elsewhere = join(root, "elsewhere", "app");
    write(join(elsewhere, "package-installs.yaml"), "vim:\n");
    await program({ env: { IMAGE_ELEMENT_YAML: `app: ${elsewhere}\n` } }).run(
      "internal",
      "package-installs-squash",
      "--elements",
      "app",
      outfile,
    );
    expect(JSON.parse(readFileSync(outfile, "utf8"))).toEqual({
      "install.d": { install: [["vim", "app"]], uninstall: [] },
    });
  });

  it("fails naming the file and line of a malformed package-installs", async () => {
    await expect(
      program().run(
        "internal",
        "package-installs-squash",
        "--elements",
        "broken",
        join(root, "x.json"),
      ),
    ).rejects.toMatchObject({
      code: "DIB_PACKAGE_INSTALLS_INVALID",
      message: expect.stringContaining(
        `${join(elementsDir, "broken", "package-installs.yaml")}:2:`,
      ),
    });
  });
});

// Once the lead wires these commands into the program, check the real process too.
const programSource = fileURLToPath(new URL("../program.ts", import.meta.url));
const wired =
  existsSync(programSource) &&
  readFileSync(programSource, "utf8").includes("registerElementsCommand");
describe.skipIf(!wired)(
  `dib-cli elements as a process${wired ? "" : " (skipped: not wired into program.ts yet)"}`,
  () => {
    it("exits 1 with the message on stderr when an element is missing", async () => {
      const result = await runCli(["elements", "resolve", "-n", "nope", "--json"], {
        env: { ELEMENTS_PATH: elementsDir },
        cwd: project,
      });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain("Element 'nope' not found");
      expect(result.stdout).toBe("");
    });

    it("prints the resolution as JSON and exits 0", async () => {
      const result = await runCli(["elements", "resolve", "-n", "app", "--json"], {
        env: { ELEMENTS_PATH: elementsDir },
        cwd: project,
      });
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(String(result.stdout)).map((e: { name: string }) => e.name)).toEqual([
        "app",
        "os",
        "tools",
      ]);
    }, 30_000);
  },
);

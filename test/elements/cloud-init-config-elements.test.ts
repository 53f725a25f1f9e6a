import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isRoot, rootOnlyReason } from "@dib/test";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { elementFile, haveMinbase, minbaseSkipReason } from "./element-harness.js";
import { hookInTree, useMinbaseTree } from "./minbase-tree.js";

const reason = rootOnlyReason || minbaseSkipReason;

/**
 * A cloud.cfg shaped like the ones cloud-init ships: bookworm's one-space module lists and
 * newer releases' two-space lists with a `[module, frequency]` entry.
 */
const CLOUD_CFG = `users:
 - default
cloud_init_modules:
 - migrator
 - bootcmd
 - growpart
 - resizefs
 - set_hostname
cloud_config_modules:
  - locale
  - [resizefs, always]
  - runcmd
cloud_final_modules:
  - scripts-user
`;

/** Reads YAML with the host's python3-yaml, as cloud-init itself (PyYAML) reads it. */
async function loadYaml(text: string): Promise<Record<string, unknown>> {
  const r = await execa(
    "python3",
    ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
    { input: text },
  );
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe.runIf(isRoot && haveMinbase)(
  `cloud-init configuration hooks in a real root tree${reason}`,
  () => {
    const { root } = useMinbaseTree("cloudcfg");

    /** Runs an element's chroot hook inside the tree, as the builder runs post-install.d. */
    const inChroot = (script: string, env: Record<string, string> = {}) =>
      hookInTree(root, script, env, { bash: true });

    it("cloud-init-disable-resizefs takes growpart and resizefs out of every module list", async () => {
      const cfg = join(root, "etc/cloud/cloud.cfg");
      mkdirSync(join(root, "etc/cloud"), { recursive: true });
      writeFileSync(cfg, CLOUD_CFG);
      for (const hook of ["50-cloud-init-disable-resizefs", "51-cloud-init-disable-growpart"]) {
        const r = await inChroot(
          elementFile("cloud-init-disable-resizefs", "post-install.d", hook),
        );
        expect(r.stderr, hook).toBe("");
        expect(r.exitCode, hook).toBe(0);
      }
      const parsed = await loadYaml(readFileSync(cfg, "utf8"));
      expect(parsed.cloud_init_modules).toEqual(["migrator", "bootcmd", "set_hostname"]);
      expect(parsed.cloud_config_modules).toEqual(["locale", "runcmd"]);
      expect(parsed.cloud_final_modules).toEqual(["scripts-user"]);
      expect(parsed.users).toEqual(["default"]);
      // sed -i leaves no backup copy behind (DIB's `sed -ie` wrote cloud.cfge).
      expect(existsSync(`${cfg}e`)).toBe(false);
    });

    it("cloud-init-disable-resizefs fails, saying why, when cloud-init is not installed", async () => {
      const cfg = join(root, "etc/cloud/cloud.cfg");
      const saved = readFileSync(cfg);
      await execa("rm", [cfg]);
      try {
        const r = await inChroot(
          elementFile(
            "cloud-init-disable-resizefs",
            "post-install.d",
            "50-cloud-init-disable-resizefs",
          ),
        );
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toContain("add the cloud-init element");
      } finally {
        writeFileSync(cfg, saved);
      }
    });

    it("cloud-init-growpart writes a growpart config cloud-init reads, from a list or a YAML flow list", async () => {
      const hook = elementFile("cloud-init-growpart", "post-install.d", "55-growpart");
      const cfg = join(root, "etc/cloud/cloud.cfg.d/55-growpart.cfg");

      const missingDir = await inChroot(hook, { DIB_CLOUD_INIT_GROWPART_DEVICES: "/" });
      expect(missingDir.exitCode).toBe(1);
      expect(missingDir.stderr).toContain("/etc/cloud/cloud.cfg.d does not exist");

      mkdirSync(join(root, "etc/cloud/cloud.cfg.d"), { recursive: true });
      const listed = await inChroot(hook, { DIB_CLOUD_INIT_GROWPART_DEVICES: "/dev/vda3, /" });
      expect(listed.stderr).toBe("");
      expect(listed.exitCode).toBe(0);
      const text = readFileSync(cfg, "utf8");
      expect(text.startsWith("#cloud-config\n")).toBe(true);
      expect(await loadYaml(text)).toEqual({
        growpart: { mode: "auto", devices: ["/dev/vda3", "/"], ignore_growroot_disabled: false },
      });

      const flow = await inChroot(hook, {
        DIB_CLOUD_INIT_GROWPART_DEVICES: "[/dev/sda1, /dev/vda3]",
      });
      expect(flow.exitCode).toBe(0);
      expect(
        ((await loadYaml(readFileSync(cfg, "utf8"))).growpart as { devices: string[] }).devices,
      ).toEqual(["/dev/sda1", "/dev/vda3"]);

      const empty = await inChroot(hook, { DIB_CLOUD_INIT_GROWPART_DEVICES: " " });
      expect(empty.exitCode).toBe(1);
      expect(empty.stderr).toContain("DIB_CLOUD_INIT_GROWPART_DEVICES is empty");
    });
  },
);

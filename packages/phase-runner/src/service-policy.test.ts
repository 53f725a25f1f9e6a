import { execFileSync } from "node:child_process";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { allowServiceStarts, blockServiceStarts, POLICY_RC_D } from "./service-policy.js";

let root: string;
const policy = () => join(root, POLICY_RC_D);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "phase-runner-policy-"));
  mkdirSync(join(root, "usr/sbin"), { recursive: true });
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("blockServiceStarts / allowServiceStarts", () => {
  it("installs an executable policy-rc.d that refuses with 101, and removes it afterwards", () => {
    expect(blockServiceStarts(root)).toBe("installed");
    expect(lstatSync(policy()).mode & 0o777).toBe(0o755);
    let status = 0;
    try {
      execFileSync(policy(), ["ssh", "start"]);
    } catch (error) {
      status = (error as { status: number }).status;
    }
    expect(status).toBe(101);
    expect(allowServiceStarts(root)).toBe("removed");
    expect(lstatSync(policy(), { throwIfNoEntry: false })).toBeUndefined();
  });

  it("is idempotent", () => {
    expect(blockServiceStarts(root)).toBe("installed");
    expect(blockServiceStarts(root)).toBe("already-present");
    expect(allowServiceStarts(root)).toBe("removed");
    expect(allowServiceStarts(root)).toBe("absent");
  });

  it("leaves a policy-rc.d an element wrote alone, before and after", () => {
    writeFileSync(policy(), "#!/bin/sh\n# the dpkg element's\nexit 101\n", { mode: 0o755 });
    expect(blockServiceStarts(root)).toBe("already-present");
    expect(allowServiceStarts(root)).toBe("not-ours");
    expect(readFileSync(policy(), "utf8")).toContain("the dpkg element's");
  });

  it("writes inside the tree when the image's usr/sbin is a link to a host directory", () => {
    const hostSbin = mkdtempSync(join(tmpdir(), "phase-runner-host-sbin-"));
    try {
      rmSync(join(root, "usr/sbin"), { recursive: true });
      mkdirSync(join(root, hostSbin), { recursive: true });
      symlinkSync(hostSbin, join(root, "usr/sbin")); // absolute: the host's directory
      expect(blockServiceStarts(root)).toBe("installed");
      expect(lstatSync(join(hostSbin, "policy-rc.d"), { throwIfNoEntry: false })).toBeUndefined();
      expect(lstatSync(join(root, hostSbin, "policy-rc.d")).isFile()).toBe(true);
      expect(allowServiceStarts(root)).toBe("removed");
    } finally {
      rmSync(hostSbin, { recursive: true, force: true });
    }
  });

  it("leaves a symlinked policy-rc.d alone", () => {
    symlinkSync("/bin/true", policy());
    expect(blockServiceStarts(root)).toBe("already-present");
    expect(allowServiceStarts(root)).toBe("not-ours");
  });

  it("does nothing in a root without usr/sbin", () => {
    rmSync(join(root, "usr"), { recursive: true });
    expect(blockServiceStarts(root)).toBe("no-usr-sbin");
  });
});

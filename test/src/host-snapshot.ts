import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface HostSnapshot {
  loops: string[];
  mounts: string[];
}

function loopDevices(): string[] {
  try {
    const out = execFileSync("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"], {
      encoding: "utf8",
    });
    return out
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.endsWith("(deleted)"))
      .sort();
  } catch {
    return [];
  }
}

function mountPoints(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split(" ")[4] ?? "")
    .sort();
}

/** What is attached and mounted on the host right now. */
export function hostSnapshot(): HostSnapshot {
  return { loops: loopDevices(), mounts: mountPoints() };
}

/**
 * Fails when anything was attached or mounted since `before` and is still there. With
 * `within`, only loop devices backed by files and mounts below those directories count
 * (so tests running side by side on a developer's machine don't see each other).
 */
export function expectHostClean(before: HostSnapshot, within?: string[]): void {
  const now = hostSnapshot();
  const inScope = (text: string) =>
    within === undefined || within.some((dir) => text.includes(dir));
  const newLoops = now.loops.filter((l) => !before.loops.includes(l) && inScope(l));
  const newMounts = now.mounts.filter((m) => !before.mounts.includes(m) && inScope(m));
  if (newLoops.length > 0 || newMounts.length > 0) {
    throw new Error(
      `host not clean:\n${newLoops.map((l) => `  loop ${l}`).join("\n")}\n${newMounts
        .map((m) => `  mount ${m}`)
        .join("\n")}`,
    );
  }
}

import { readFileSync, rmSync, writeFileSync } from "node:fs";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the lock file `path` without waiting: true when this process now holds it. A
 * lock whose process has died is taken over. Two builds storing the same stage at once:
 * one stores, the other goes on without waiting (it would store the same tree).
 */
export function tryLock(path: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx", mode: 0o644 });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      let holder = Number.NaN;
      try {
        holder = Number.parseInt(readFileSync(path, "utf8"), 10);
      } catch {
        // it went away between the two calls: try again
      }
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) return false;
      if (Number.isInteger(holder)) rmSync(path, { force: true });
    }
  }
  return false;
}

export function unlock(path: string): void {
  rmSync(path, { force: true });
}

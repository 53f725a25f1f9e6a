import { existsSync } from "node:fs";
import { join } from "node:path";
import { DibError } from "@dib/host";

export const OVMF_DIR = "/usr/share/OVMF";

// Debian's ovmf package: the 4 MiB build first, the older 2 MiB one on older hosts.
const PAIRS = [
  ["OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"],
  ["OVMF_CODE.fd", "OVMF_VARS.fd"],
] as const;

/** The OVMF firmware (code, and the variable store template that each boot copies). */
export function findOvmf(dir = OVMF_DIR): { code: string; varsTemplate: string } {
  for (const [code, vars] of PAIRS) {
    if (existsSync(join(dir, code)) && existsSync(join(dir, vars))) {
      return { code: join(dir, code), varsTemplate: join(dir, vars) };
    }
  }
  throw new DibError(
    "DIB_TOOL_MISSING",
    `no OVMF firmware in ${dir} (OVMF_CODE_4M.fd and OVMF_VARS_4M.fd)`,
    {
      hint: "apt-get install ovmf",
    },
  );
}

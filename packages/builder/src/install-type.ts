import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The environment file that gives every hook the build's default install type (§2.2 step 4). */
const INSTALL_TYPE_FILE = "11-dib-install-type.bash";

export function installTypeEnvironment(installType: string): string {
  return `export DIB_DEFAULT_INSTALLTYPE=\${DIB_DEFAULT_INSTALLTYPE:-"${installType}"}\n`;
}

export function writeInstallTypeFile(hooksDir: string, installType: string): string {
  const dir = join(hooksDir, "environment.d");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, INSTALL_TYPE_FILE);
  writeFileSync(file, installTypeEnvironment(installType), { mode: 0o644 });
  return file;
}

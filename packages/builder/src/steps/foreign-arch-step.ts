import { type Architecture, architecture } from "@dib/elements";
import {
  BINFMT_DIR,
  type BinfmtDefinition,
  DibError,
  type ForeignArchSupport,
  foreignArchSupport,
  type Ledger,
} from "@dib/host";

/**
 * Whether this host can run `target`'s programs through QEMU's user-mode emulator, and if
 * not, why: checked before anything is made on the host. The kernel side (binfmt_misc
 * mounted, an entry registered) is what `foreignArchStep` provides during the build.
 */
export function checkForeignArch(hostArch: string, target: Architecture): ForeignArchSupport {
  const support = foreignArchSupport(target.qemu);
  const what = `building ${target.name} images on this ${hostArch} host`;
  if (!support.definition) {
    throw new DibError(
      "DIB_FOREIGN_ARCH",
      `${what} needs QEMU's user-mode emulator for ${target.qemu}, and it is not installed`,
      {
        hint: "apt-get install qemu-user-static arch-test (dib-cli doctor shows what foreign architectures can run here)",
      },
    );
  }
  if (!support.interpreterPresent) {
    throw new DibError(
      "DIB_FOREIGN_ARCH",
      `${what}: the emulator ${support.definition.interpreter} named in ${support.definition.file} does not exist`,
      { hint: "reinstall it: apt-get install --reinstall qemu-user-static" },
    );
  }
  if (support.mounted && !support.enabled) {
    throw new DibError("DIB_FOREIGN_ARCH", `${what}: binfmt_misc is switched off on this host`, {
      hint: `switch it on: echo 1 > ${BINFMT_DIR}/status`,
      file: `${BINFMT_DIR}/status`,
    });
  }
  return support;
}

/** The definition dib registers: the host's own, under a name of this build, with F set. */
export function buildBinfmtDefinition(def: BinfmtDefinition, suffix: string): BinfmtDefinition {
  // F: the kernel opens the emulator now, so chroots need no copy of it inside them (and
  // the finished image never gets one).
  const flags = def.flags.includes("F") ? def.flags : `${def.flags}F`;
  return { ...def, name: `dib-${def.name}-${suffix}`, flags };
}

export interface ForeignArchResult {
  /** The binfmt entry that runs the target's programs. */
  entry: string;
  /** Whether this build registered it (and will remove it). */
  registered: boolean;
}

/**
 * Makes the target architecture's programs run in the build's chroots: binfmt_misc mounted
 * and an enabled entry with the F flag for the emulator. An entry the host already has is
 * used as it is; otherwise the build registers its own, and both the mount and the entry
 * are in the ledger, so the build (or `dib-cli cleanup`) removes exactly what it added.
 */
export async function foreignArchStep(
  ledger: Ledger,
  hostArch: string,
  arch: string,
): Promise<ForeignArchResult> {
  const target = architecture(arch);
  let support = checkForeignArch(hostArch, target);
  if (!support.mounted) {
    await ledger.mount({ source: "binfmt_misc", target: BINFMT_DIR, fstype: "binfmt_misc" });
    support = checkForeignArch(hostArch, target);
  }
  if (support.serving) return { entry: support.serving.name, registered: false };
  const definition = support.definition;
  if (!definition) throw new DibError("DIB_INTERNAL", "checkForeignArch let no definition by");
  const mine = buildBinfmtDefinition(definition, String(process.pid));
  await ledger.registerBinfmt(mine);
  if (!foreignArchSupport(target.qemu).serving) {
    throw new DibError(
      "DIB_FOREIGN_ARCH",
      `registered ${mine.name} for ${target.name}, but the kernel does not show it as usable`,
      { hint: `look at ${BINFMT_DIR}/${mine.name}`, file: definition.file },
    );
  }
  return { entry: mine.name, registered: true };
}

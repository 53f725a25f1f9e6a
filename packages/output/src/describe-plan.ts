import { formatArgv } from "@dib/host";
import type { OutputPlan, OutputStep } from "./plan.js";
import { qemuImgConvertArgv } from "./qemu-img.js";
import { mksquashfsArgv } from "./squashfs.js";
import { treeExclusions } from "./tree-exclusions.js";
import { treeTarArgv } from "./tree-tar.js";
import { vhdUtilCommands } from "./vhd-util.js";

const RAW = "<raw>";
const TREE = "<tree>";

function how(step: OutputStep): string {
  const exclusions = treeExclusions(TREE, []);
  switch (step.via) {
    case "qemu-img":
      return formatArgv(qemuImgConvertArgv(step, RAW));
    case "vhd-util":
      return vhdUtilCommands(step, RAW)
        .map((argv) => formatArgv(argv))
        .join(" && ");
    case "move":
      return `mv ${RAW} ${step.temp}`;
    case "mksquashfs":
      return formatArgv(mksquashfsArgv(step, TREE, exclusions));
    case "tar":
      return "tar stream > file";
    case "gzip":
      return `tar stream | ${formatArgv([...step.gzip, "-9", "-c"])} > file`;
    case "docker-import":
      return `tar stream | docker import - ${step.image.reference}`;
    case "docker-archive":
      return `tar stream as the layer of docker-archive ${step.image.reference} (${step.platform.architecture})`;
    case "oci-archive":
      return `tar stream | ${formatArgv([...step.gzip, "-c"])} as the layer of OCI archive, ref.name ${step.image.tag}`;
  }
}

/**
 * The plan as lines a person reads (`--dry-run`): stages in order, each output with its
 * file and how it is made. `<raw>` and `<tree>` stand for the inputs.
 */
export function describeOutputPlan(plan: OutputPlan): string[] {
  const lines: string[] = [];
  for (const stage of plan.stages) {
    const title = {
      tree: "from the root tree (one tar pass feeds every tar-stream output)",
      disk: "from the raw disk image, in parallel",
      raw: "the raw disk image itself, last",
    }[stage.name];
    lines.push(`${stage.name}: ${title}`);
    if (stage.name === "tree" && stage.steps.some((s) => s.input === "tar-stream")) {
      lines.push(`  tar stream: ${formatArgv(treeTarArgv(TREE, treeExclusions(TREE, [])))}`);
    }
    for (const step of stage.steps) {
      const target = "file" in step ? step.file : `docker engine: ${step.image.reference}`;
      lines.push(`  ${step.type.padEnd(8)} ${target}`);
      lines.push(`           ${how(step)}`);
    }
  }
  lines.push(
    plan.checksums.length > 0
      ? `checksums: ${plan.checksums.map((a) => `.${a}`).join(" ")} beside every file`
      : "checksums: none",
  );
  lines.push(
    plan.overwriteOld
      ? "existing outputs: replaced"
      : "existing outputs: renamed to NAME-YYYY.MM.DD-HH.MM.SS.<ext>",
  );
  return lines;
}

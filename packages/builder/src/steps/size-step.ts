import type { Host } from "@dib/host";
import { imageUsageReport } from "@dib/output";
import { computeImageSize, type ImageSize, parseDuTotal } from "../image-size.js";

export interface SizeInput {
  /** The finished root tree. */
  tree: string;
  imageSizeGb: number | undefined;
  imageExtraSizeMb: number | undefined;
  rootFsType: string;
  journalSizeMb: number;
  release: string | undefined;
  imageElements: readonly string[];
  maxOnlineResize: number | undefined;
  mkfsOptions: string;
  showImageUsage: boolean;
  showImageUsageFull: boolean;
}

export interface SizeResult extends ImageSize {
  /** The du total of the tree in KiB (undefined when the size was given). */
  measuredKiB: number | undefined;
  /** DIB_SHOW_IMAGE_USAGE's report lines. */
  report: string[];
}

/** Measures the tree (unless a size is given) and applies DIB's arithmetic (§2.8). */
export async function sizeStep(host: Host, input: SizeInput): Promise<SizeResult> {
  let measuredKiB: number | undefined;
  let report: string[] = [];
  if (input.showImageUsage) {
    const usage = await imageUsageReport(host, input.tree, { full: input.showImageUsageFull });
    report = usage.lines;
    measuredKiB = usage.totalKiB;
  } else if (input.imageSizeGb === undefined) {
    measuredKiB = parseDuTotal((await host.run(["du", "-s", "-x", "-k", input.tree])).stdout);
  }
  const size = computeImageSize({
    imageSizeGb: input.imageSizeGb,
    measuredKiB,
    imageExtraSizeMb: input.imageExtraSizeMb,
    rootFsType: input.rootFsType,
    journalSizeMb: input.journalSizeMb,
    release: input.release,
    imageElements: input.imageElements,
    maxOnlineResize: input.maxOnlineResize,
    mkfsOptions: input.mkfsOptions,
  });
  return { ...size, measuredKiB, report };
}

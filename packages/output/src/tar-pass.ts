import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type { Host } from "@dib/host";
import type { TarSink } from "./converter.js";
import type { TreeExclusion } from "./tree-exclusions.js";
import { treeTarArgv } from "./tree-tar.js";

/**
 * Feeds one readable into several writables, at the pace of the slowest. The first error
 * anywhere stops all of them, so a failed consumer does not leave tar running.
 */
export async function fanOut(source: Readable, targets: readonly Writable[]): Promise<void> {
  for (const target of targets) source.pipe(target);
  try {
    await Promise.all([finished(source), ...targets.map((t) => finished(t))]);
  } catch (error) {
    source.unpipe();
    source.destroy();
    for (const target of targets) target.destroy();
    throw error;
  }
}

function brokenPipe(error: unknown): boolean {
  const details = (error as { details?: { stderrTail?: string } }).details;
  return /broken pipe|EPIPE/i.test(`${details?.stderrTail ?? ""} ${String(error)}`);
}

/**
 * Reads the tree once with tar and hands the stream to every tar-stream output (tar, tgz,
 * docker, oci), so asking for several of them costs one pass over the tree. Resolves with
 * what each sink produced, in order; on failure, the most telling error is thrown: tar's
 * own unless it only lost its reader, otherwise the first failed output's.
 */
export async function runTarPass<T>(
  host: Host,
  tree: string,
  exclusions: readonly TreeExclusion[],
  sinks: readonly (TarSink & { done: Promise<T> })[],
): Promise<T[]> {
  const tar = host.stream(treeTarArgv(tree, exclusions));
  tar.stdin.end();
  const flow = fanOut(
    tar.stdout,
    sinks.map((s) => s.input),
  );
  const [tarResult, flowResult, ...sinkResults] = await Promise.allSettled([
    tar.done,
    flow,
    ...sinks.map((s) => s.done),
  ]);
  if (tarResult?.status === "rejected" && !brokenPipe(tarResult.reason)) throw tarResult.reason;
  const failedSink = sinkResults.find((r) => r.status === "rejected");
  if (failedSink?.status === "rejected") throw failedSink.reason;
  if (flowResult?.status === "rejected") throw flowResult.reason;
  if (tarResult?.status === "rejected") throw tarResult.reason;
  return sinkResults.map((r) => (r as PromiseFulfilledResult<T>).value);
}

import { findTool, type Host } from "@dib/host";

/** Facts about the host that change what a plan does; pass them to planOutputs. */
export interface OutputHostFacts {
  /** `docker info` answers: `-t docker` imports into the engine instead of writing a file. */
  dockerEngine: boolean;
  /** vhd-util is installed: `-t vhd` goes through it, as DIB does. */
  vhdUtil: boolean;
}

/**
 * Looks at the host once. A docker CLI without a reachable daemon (a CI runner, a
 * container) counts as no engine; the check gives up after `timeoutMs`.
 */
export async function probeOutputHost(
  host: Host,
  options: { types?: readonly string[]; timeoutMs?: number } = {},
): Promise<OutputHostFacts> {
  const wants = (t: string) => options.types === undefined || options.types.includes(t);
  let dockerEngine = false;
  if (wants("docker") && findTool("docker") !== undefined) {
    const info = await host
      .run(["docker", "info", "--format", "{{.ServerVersion}}"], {
        allowFailure: true,
        timeout: options.timeoutMs ?? 15_000,
      })
      .catch(() => undefined);
    dockerEngine = info?.exitCode === 0 && info.stdout.trim() !== "";
  }
  return { dockerEngine, vhdUtil: wants("vhd") && findTool("vhd-util") !== undefined };
}

/** What `mount_point` says for a filesystem that is not mounted (swap). */
export const NO_MOUNT_POINT = "none";

/**
 * Why a `mount_point` is refused, or undefined when it is fine: it must be `none` or an
 * absolute, normalised path without `..`, so that it names a place inside the image (a
 * relative or `..` path would be joined onto the mount base and land on the host).
 */
export function mountPointProblem(mountPoint: string): string | undefined {
  if (mountPoint === NO_MOUNT_POINT) return undefined;
  if (!mountPoint.startsWith("/")) {
    return `mount point [${mountPoint}] is not an absolute path: write it from the image's /, e.g. /${mountPoint.replace(/^(\.\.?\/)+/, "")}`;
  }
  const parts = mountPoint.split("/").slice(1);
  if (parts.includes("..")) {
    return `mount point [${mountPoint}] contains "..": it must name a directory inside the image`;
  }
  if (mountPoint !== "/" && parts.some((p) => p === "" || p === ".")) {
    return `mount point [${mountPoint}] is not normalised: write it as ${normalise(mountPoint)}`;
  }
  return undefined;
}

function normalise(mountPoint: string): string {
  const parts = mountPoint.split("/").filter((p) => p !== "" && p !== ".");
  return `/${parts.join("/")}`;
}

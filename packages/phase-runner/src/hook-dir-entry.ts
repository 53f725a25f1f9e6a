/** One entry of a hook directory, as run-parts sees it (symlinks followed). */
export interface HookDirEntry {
  name: string;
  /** What the entry is once symlinks are followed; `dangling` for a link to nothing. */
  kind: "file" | "directory" | "other" | "dangling";
  /** The entry itself is a symbolic link. */
  symlink: boolean;
  /** Any execute bit is set on the file it resolves to (root may run it). */
  executable: boolean;
}

export type SkipReason = "bad-name" | "not-executable" | "directory" | "not-a-file";

/** An entry that is not run (or not sourced), and why. */
export interface SkippedEntry {
  name: string;
  reason: SkipReason;
  /** A sentence for the log. */
  message: string;
  /** Worth a WARNING: DIB skips these silently, which hides packaging mistakes. */
  warn: boolean;
}

import { DibError } from "@dib/host";
import { describe, expect, it } from "vitest";
import { isNoSpace, outputSpaceError } from "./no-space.js";

describe("isNoSpace", () => {
  it("knows ENOSPC from an errno, a command's output and a cause chain", () => {
    expect(isNoSpace(Object.assign(new Error("write failed"), { code: "ENOSPC" }))).toBe(true);
    const command = new DibError(
      "DIB_COMMAND_FAILED",
      "qemu-img convert … failed with exit code 1",
      {
        details: { stderrTail: "qemu-img: error while writing at byte 0: No space left on device" },
      },
    );
    expect(isNoSpace(command)).toBe(true);
    expect(isNoSpace(new Error("wrapped", { cause: command }))).toBe(true);
    expect(isNoSpace(new Error("EACCES: permission denied"))).toBe(false);
  });
});

describe("outputSpaceError", () => {
  it("names ENOSPC, the file and its directory, keeping the original as the cause", () => {
    const original = Object.assign(new Error("write failed"), { code: "ENOSPC" });
    const error = outputSpaceError(original, "/out/image.qcow2") as DibError;
    expect(error.code).toBe("DIB_OUTPUT_NO_SPACE");
    expect(error.message).toBe(
      "no space left on device (ENOSPC) while writing /out/image.qcow2: the file system of /out is full",
    );
    expect(error.cause).toBe(original);
  });

  it("passes other errors through", () => {
    const other = new Error("boom");
    expect(outputSpaceError(other, "/out/x")).toBe(other);
  });
});

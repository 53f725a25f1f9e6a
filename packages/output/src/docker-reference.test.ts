import { isDibError } from "@dib/host";
import { describe, expect, it } from "vitest";
import { ociPlatform, parseDockerTarget } from "./docker-reference.js";

describe("parseDockerTarget", () => {
  it("splits repository and tag, defaulting the tag to latest", () => {
    expect(parseDockerTarget("img:1.0")).toEqual({
      repository: "img",
      tag: "1.0",
      reference: "img:1.0",
    });
    expect(parseDockerTarget("team/img")).toEqual({
      repository: "team/img",
      tag: "latest",
      reference: "team/img:latest",
    });
  });

  it("reads a colon before the last slash as a registry port", () => {
    expect(parseDockerTarget("registry.example.com:5000/team/img")).toMatchObject({
      repository: "registry.example.com:5000/team/img",
      tag: "latest",
    });
    expect(parseDockerTarget("localhost:5000/img:v2").tag).toBe("v2");
  });

  it("rejects names docker would refuse", () => {
    for (const bad of ["Upper/Case", "img:", "img:-x", "a//b", "img@sha256:abc"]) {
      let error: unknown;
      try {
        parseDockerTarget(bad);
      } catch (e) {
        error = e;
      }
      expect(isDibError(error, "DIB_OUTPUT_DOCKER_TARGET"), bad).toBe(true);
    }
  });
});

describe("ociPlatform", () => {
  it("maps DIB's architecture names to OCI platforms", () => {
    expect(ociPlatform("amd64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(ociPlatform("armhf")).toEqual({ os: "linux", architecture: "arm", variant: "v7" });
    expect(ociPlatform("ppc64el")).toEqual({ os: "linux", architecture: "ppc64le" });
    expect(ociPlatform("i386").architecture).toBe("386");
  });
});

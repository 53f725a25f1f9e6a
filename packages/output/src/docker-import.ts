import type { OutputConverter } from "./converter.js";

/** `-t docker` with a docker engine: the tree's tar stream into `docker import`, as DIB does. */
export const dockerImportConverter: OutputConverter<"docker-import"> = {
  input: "tar-stream",
  open(step, { host }) {
    const docker = host.stream(["docker", "import", "-", step.image.reference]);
    const printed: Buffer[] = [];
    docker.stdout.on("data", (chunk: Buffer) => printed.push(chunk));
    const done = docker.done.then(() => ({
      image: step.image.reference,
      imageId: Buffer.concat(printed).toString("utf8").trim(),
    }));
    return { input: docker.stdin, done };
  },
};

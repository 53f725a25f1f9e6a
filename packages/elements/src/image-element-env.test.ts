import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  elementInfoEnvScript,
  imageElementArrayFunction,
  imageElementVars,
} from "./image-element-env.js";

const elements = [
  { name: "base", dir: "/els/base" },
  { name: "zeta", dir: "/els/zeta" },
  { name: "alpha", dir: "/my elements/it's here" },
];

describe("imageElementVars", () => {
  it("lists the names space-separated in the given order and maps them to folders in YAML with sorted keys", () => {
    const vars = imageElementVars(elements);
    expect(vars.IMAGE_ELEMENT).toBe("base zeta alpha");
    expect(vars.IMAGE_ELEMENT_YAML.split("\n")[0]).toBe("alpha: /my elements/it's here");
    expect(Object.keys(parse(vars.IMAGE_ELEMENT_YAML))).toEqual(["alpha", "base", "zeta"]);
    expect(imageElementVars([{ name: "a", dir: "/p/a" }]).IMAGE_ELEMENT_YAML).toBe("a: /p/a\n");
  });
});

describe("get_image_element_array", () => {
  it("is DIB's shape for plain paths", () => {
    expect(
      imageElementArrayFunction([
        { name: "a", dir: "/p/a" },
        { name: "b", dir: "/p/b" },
      ]),
    ).toBe(
      "function get_image_element_array {\n  echo '[a]=/p/a [b]=/p/b '\n};\nexport -f get_image_element_array;\n",
    );
  });

  it("evaluates in bash the way hooks use it, even for paths with spaces and quotes", () => {
    const script = `${elementInfoEnvScript(elements)}
eval declare -A image_elements=($(get_image_element_array))
for name in $IMAGE_ELEMENT; do printf '%s=%s\\n' "$name" "\${image_elements[$name]}"; done
bash -c 'get_image_element_array' >/dev/null && echo exported
printf '%s' "$IMAGE_ELEMENT_YAML" | head -1`;
    const out = execFileSync("bash", ["-c", script], { encoding: "utf8" });
    expect(out.trimEnd().split("\n")).toEqual([
      "base=/els/base",
      "zeta=/els/zeta",
      "alpha=/my elements/it's here",
      "exported",
      "alpha: /my elements/it's here",
    ]);
  });
});

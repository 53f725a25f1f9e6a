import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { scratch, writeElements } from "./__fixtures__/element-tree.js";
import { discoverElements, parseElementsPath } from "./discover-elements.js";
import { elementInfoEnvScript } from "./image-element-env.js";
import { normalizePackageInstalls } from "./package-installs-file.js";
import {
  collectPackageInstalls,
  type PackageInstallsEnv,
  type SquashedPackageInstalls,
} from "./package-installs-squash.js";
import { resolveElements } from "./resolve-elements.js";

/** DIB's own test data, kept beside the repository in shared/. */
const conformanceDir = fileURLToPath(
  new URL("../../../../shared/conformance/dib/elements/", import.meta.url),
);
const present = existsSync(conformanceDir);
const reason = present ? "" : ` (skipped: no conformance fixtures at ${conformanceDir})`;
const load = <T>(file: string): T => parse(readFileSync(join(conformanceDir, file), "utf8")) as T;

/** DIB's exception types and the DibError codes we raise for them. */
const CODES: Record<string, string> = {
  MissingElementException: "DIB_ELEMENT_NOT_FOUND",
  InvalidElementDir: "DIB_ELEMENTS_PATH_INVALID",
  AlreadyProvidedException: "DIB_ELEMENT_ALREADY_PROVIDED",
  MissingOSException: "DIB_NO_OPERATING_SYSTEM",
  Exception: "DIB_NO_ELEMENT_SOURCES",
  RuntimeError: "DIB_PACKAGE_INSTALLS_WHEN_UNSET",
};

interface ExpectedError {
  type: string;
  message?: string;
  message_contains?: string;
  message_regex?: string;
}

function expectDibError(error: unknown, expected: ExpectedError, logContains?: string) {
  expect(error).toMatchObject({ name: "DibError", code: CODES[expected.type] });
  const message = (error as Error).message;
  if (expected.message !== undefined) expect(message).toBe(expected.message);
  if (expected.message_contains !== undefined) expect(message).toContain(expected.message_contains);
  if (expected.message_regex !== undefined)
    expect(message).toMatch(new RegExp(expected.message_regex));
  // DIB logs these lines before raising an empty AlreadyProvidedException; ours are in the message.
  if (logContains !== undefined) expect(message).toContain(logContains);
}

async function caught(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

interface DepsFixture {
  elements_dir: Record<string, { deps: string[]; provides: string[] }>;
  element_override_dir: Record<string, { deps: string[]; provides: string[] }>;
  cases: {
    name: string;
    api?: string;
    input?: string[];
    env?: { ELEMENTS_PATH: string };
    elements_path_suffix?: string;
    expect?: [string, string][] | string;
    expect_names?: string[];
    expect_error?: ExpectedError;
    expect_log_contains?: string;
  }[];
}

describe.skipIf(!present)(`element-deps conformance (element-deps-fixture.yaml)${reason}`, () => {
  const fixture = present ? load<DepsFixture>("element-deps-fixture.yaml") : undefined;
  const root = scratch();
  afterAll(root.remove);
  if (fixture) {
    // Both files always exist, possibly empty, as in DIB's setUp().
    const write = (dir: string, spec: DepsFixture["elements_dir"]) =>
      writeElements(
        dir,
        Object.fromEntries(
          Object.entries(spec).map(([name, s]) => [name, { deps: s.deps, provides: s.provides }]),
        ),
      );
    write(join(root.dir, "elements"), fixture.elements_dir);
    write(join(root.dir, "element-override"), fixture.element_override_dir);
  }
  const elementsPath = `${join(root.dir, "element-override")}:${join(root.dir, "elements")}`;

  for (const c of fixture?.cases ?? []) {
    it(`${c.name}`, async () => {
      if (c.api === "_get_elements_dir") {
        const value = c.env?.ELEMENTS_PATH ?? "";
        if (c.expect_error) {
          expectDibError(
            await caught(() => discoverElements({ elementsPath: value })),
            c.expect_error,
          );
        } else {
          expect(parseElementsPath(value).join(":")).toBe(c.expect);
        }
        return;
      }
      const resolve = async () => {
        const catalog = await discoverElements({
          elementsPath: elementsPath + (c.elements_path_suffix ?? ""),
        });
        return resolveElements(c.input ?? [], catalog);
      };
      if (c.expect_error) {
        expectDibError(await caught(resolve), c.expect_error, c.expect_log_contains);
        return;
      }
      const resolved = await resolve();
      if (c.api === "expand_dependencies") {
        expect(resolved.elements.map((e) => e.name).sort()).toEqual(
          [...(c.expect_names ?? [])].sort(),
        );
      } else if (c.api === "_output_env_vars") {
        const script = elementInfoEnvScript(resolved.elements);
        expect(script).toContain(`export IMAGE_ELEMENT='foo requires-foo'`);
        expect(script).toContain("export IMAGE_ELEMENT_YAML=");
        expect(script).toContain("function get_image_element_array");
      } else {
        const got = resolved.elements.map((e) => [e.name, basename(dirname(e.dir))]);
        const want = [...(c.expect as [string, string][])];
        expect(got.sort()).toEqual(want.sort());
        // Ours is also ordered: by name.
        expect(resolved.elements.map((e) => e.name)).toEqual(
          resolved.elements.map((e) => e.name).sort(),
        );
      }
    });
  }
});

type Lists = Record<string, Record<string, [string, string][]>>;
interface SquashFixture {
  cases: {
    name: string;
    env?: Record<string, string>;
    env_add?: Record<string, string>;
    calls: { element: string; objs: unknown; expect_after?: Lists }[];
    expect?: Lists;
    expect_error?: ExpectedError;
  }[];
}

/** As DIB's test compares: only the phases and operations it lists, each order-insensitively. */
function expectLists(state: SquashedPackageInstalls, expected: Lists) {
  for (const [phase, ops] of Object.entries(expected)) {
    for (const [op, list] of Object.entries(ops)) {
      const got =
        state[phase as keyof SquashedPackageInstalls]?.[op as "install" | "uninstall"] ?? [];
      expect([...got].sort(), `${phase} ${op}`).toEqual([...list].sort());
    }
  }
}

describe.skipIf(!present)(
  `package-installs squash conformance (package-installs-squash-fixture.yaml)${reason}`,
  () => {
    const fixture = present
      ? load<SquashFixture>("package-installs-squash-fixture.yaml")
      : undefined;
    for (const c of fixture?.cases ?? []) {
      it(`${c.name}`, () => {
        const env: PackageInstallsEnv = c.env_add ? { ...process.env, ...c.env_add } : { ...c.env };
        const run = () => {
          let state: SquashedPackageInstalls = {};
          for (const call of c.calls) {
            state = collectPackageInstalls(
              state,
              call.element,
              normalizePackageInstalls(call.objs),
              env,
            );
            if (call.expect_after) expectLists(state, call.expect_after);
          }
          return state;
        };
        if (c.expect_error) {
          let error: unknown;
          try {
            run();
          } catch (e) {
            error = e;
          }
          expectDibError(error, c.expect_error);
          return;
        }
        const state = run();
        if (c.expect) expectLists(state, c.expect);
      });
    }
  },
);

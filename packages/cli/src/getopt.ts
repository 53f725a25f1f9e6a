import { DibError } from "@dib/host";

/** One option the parser knows: a short letter, a long name, or both. */
export interface OptionSpec {
  key: string;
  short?: string;
  long?: string;
  /** Takes a value (`-o NAME`, `-oNAME`, `--logfile F`, `--logfile=F`). */
  takesValue: boolean;
}

interface ParsedOption {
  key: string;
  /** How it was written, for messages. */
  as: string;
  value?: string;
}

export interface GetoptResult {
  /** Options in the order given. */
  options: ParsedOption[];
  /** Everything else, in order (options and operands may be mixed). */
  operands: string[];
}

function badArgument(message: string): DibError {
  return new DibError("DIB_BAD_ARGUMENT", message, {
    hint: "run dib-cli build --help for the options",
  });
}

function findLong(specs: readonly OptionSpec[], name: string): OptionSpec {
  const exact = specs.find((s) => s.long === name);
  if (exact) return exact;
  const candidates = specs.filter((s) => s.long?.startsWith(name));
  if (candidates.length === 1 && candidates[0]) return candidates[0];
  if (candidates.length > 1) {
    throw badArgument(
      `option '--${name}' is ambiguous; possibilities: ${candidates.map((c) => `'--${c.long}'`).join(" ")}`,
    );
  }
  throw badArgument(`unrecognized option '--${name}'`);
}

/**
 * GNU getopt's rules, as disk-image-create users rely on them: options and operands may be
 * mixed (operands are collected in order), short flags cluster (`-xxu`), a short option's
 * value may be attached (`-ofoo`), long options accept `--opt=value` and any unambiguous
 * prefix (`--image-s 3`), and `--` ends the options.
 */
export function getopt(argv: readonly string[], specs: readonly OptionSpec[]): GetoptResult {
  const options: ParsedOption[] = [];
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const spec = findLong(specs, name);
      const as = `--${spec.long}`;
      if (!spec.takesValue) {
        if (eq !== -1) throw badArgument(`option '${as}' doesn't allow an argument`);
        options.push({ key: spec.key, as });
        continue;
      }
      if (eq !== -1) {
        options.push({ key: spec.key, as, value: arg.slice(eq + 1) });
        continue;
      }
      const value = argv[i + 1];
      if (value === undefined) throw badArgument(`option '${as}' requires an argument`);
      options.push({ key: spec.key, as, value });
      i++;
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j] as string;
        const spec = specs.find((s) => s.short === letter);
        if (!spec) throw badArgument(`invalid option -- '${letter}'`);
        const as = `-${letter}`;
        if (!spec.takesValue) {
          options.push({ key: spec.key, as });
          continue;
        }
        const attached = arg.slice(j + 1);
        if (attached !== "") {
          options.push({ key: spec.key, as, value: attached });
        } else {
          const value = argv[i + 1];
          if (value === undefined) throw badArgument(`option requires an argument -- '${letter}'`);
          options.push({ key: spec.key, as, value });
          i++;
        }
        break;
      }
      continue;
    }
    operands.push(arg);
  }
  return { options, operands };
}

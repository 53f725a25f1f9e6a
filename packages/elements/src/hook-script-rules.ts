/** Script names dib-run-parts runs; anything else (`10-foo.sh`) is silently skipped. */
export const RUN_PARTS_NAME = /^[0-9A-Za-z_-]+$/;

/** environment.d file names dib-run-parts sources. */
export const ENVIRONMENT_FILE_NAME = /^[0-9A-Za-z_.-]+$/;

/** Something in an element that will not work the way its author likely meant. */
export interface ElementWarning {
  code:
    | "DIB_HOOK_NOT_EXECUTABLE"
    | "DIB_HOOK_NAME_SKIPPED"
    | "DIB_ENVIRONMENT_NAME_SKIPPED"
    | "DIB_DANGLING_SYMLINK";
  element: string;
  file: string;
  message: string;
}

/** Why dib-run-parts would not run this hook script, if it would not. */
export function hookScriptWarning(
  element: string,
  phase: string,
  name: string,
  file: string,
  mode: number,
): ElementWarning | undefined {
  if (!RUN_PARTS_NAME.test(name)) {
    return {
      code: "DIB_HOOK_NAME_SKIPPED",
      element,
      file,
      message: `${element}/${phase}/${name} will never run: hook names may only hold letters, digits, '-' and '_' (rename it, e.g. without the extension)`,
    };
  }
  if ((mode & 0o111) === 0) {
    return {
      code: "DIB_HOOK_NOT_EXECUTABLE",
      element,
      file,
      message: `${element}/${phase}/${name} will never run: it is not executable (chmod +x ${file})`,
    };
  }
  return undefined;
}

/** Why dib-run-parts would not source this environment.d file, if it would not. */
export function environmentFileWarning(
  element: string,
  name: string,
  file: string,
): ElementWarning | undefined {
  if (ENVIRONMENT_FILE_NAME.test(name)) return undefined;
  return {
    code: "DIB_ENVIRONMENT_NAME_SKIPPED",
    element,
    file,
    message: `${element}/environment.d/${name} will never be sourced: names may only hold letters, digits, '.', '-' and '_'`,
  };
}

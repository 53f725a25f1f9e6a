import { DibError } from "@dib/errors";

/**
 * An element name is one path segment: it names a directory, a key in IMAGE_ELEMENT_YAML
 * and a word in the space-separated IMAGE_ELEMENT, so it can hold no `/`, no `..` and no
 * whitespace.
 */
export function isElementName(name: string): boolean {
  return name.length > 0 && !/[\s/\0]/.test(name) && !name.includes("..") && name !== ".";
}

/** Throws DIB_ELEMENT_NAME_INVALID unless `name` is a valid element name. */
export function assertElementName(
  name: string,
  where: { file?: string | undefined; line?: number | undefined; what?: string } = {},
): void {
  if (isElementName(name)) return;
  const place = where.file ? `${where.file}${where.line ? `:${where.line}` : ""}: ` : "";
  throw new DibError(
    "DIB_ELEMENT_NAME_INVALID",
    `${place}'${name}' is not a valid ${where.what ?? "element name"}`,
    {
      file: where.file,
      hint: "an element name is a single directory name: no '/', no '..', no spaces (one name per line in element-deps and element-provides)",
      details: { name, line: where.line },
    },
  );
}

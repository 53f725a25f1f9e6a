import { packageBuild } from "../../tsup.base.js";

// Splitting: bin.js and index.js share one chunk with the program instead of each
// carrying its own copy.
export default packageBuild(["src/index.ts", "src/bin.ts"], { splitting: true });

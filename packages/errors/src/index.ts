export { DibError, type DibErrorOptions, isDibError, toDibError } from "./dib-error.js";

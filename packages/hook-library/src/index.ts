export {
  HOOK_LIBRARY_FILES,
  HOOK_LIBRARY_FOLDER,
  hookLibraryDir,
  IN_TARGET_HOOK_LIBRARY,
  installHookLibrary,
  SHIMS_FOLDER,
  sudoShimDir,
} from "./hook-library.js";

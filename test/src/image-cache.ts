/**
 * The image cache every end-to-end build shares (DIB_IMAGE_CACHE of the builds), so each
 * release is bootstrapped once and every package downloaded once per run: the test's own
 * DIB_TEST_IMAGE_CACHE, else the DIB_IMAGE_CACHE the run was given (CI sets one), else a
 * folder kept between runs on this machine.
 */
export const testImageCache =
  process.env.DIB_TEST_IMAGE_CACHE ??
  process.env.DIB_IMAGE_CACHE ??
  "/var/cache/dib-test/image-create";

# pip-cache: pip in the chroot caches its downloads in /tmp/pip, which root.d binds to
# $DIB_IMAGE_CACHE/pip. PIP_CACHE_DIR is what pip reads today; PIP_DOWNLOAD_CACHE is the
# name DIB exports (pip < 6 read it), kept for element scripts that look at it.
export PIP_DOWNLOAD_CACHE=/tmp/pip
export PIP_CACHE_DIR=/tmp/pip

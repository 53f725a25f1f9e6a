# growvols: how and whether the image grows its LVM volumes at boot (see README.md).
export DIB_GROWVOLS_TRIGGER=${DIB_GROWVOLS_TRIGGER:-manual}
export DIB_GROWVOLS_ARGS=${DIB_GROWVOLS_ARGS:-}
export DIB_GROWVOLS_GROUP=${DIB_GROWVOLS_GROUP:-}
export DIB_GROWVOLS_DEVICE=${DIB_GROWVOLS_DEVICE:-}

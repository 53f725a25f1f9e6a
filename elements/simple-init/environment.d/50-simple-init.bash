# simple-init: glean, not cloud-init, configures the machine, so cloud-init (if another
# element installs its configuration) looks at no datasource; and where glean comes from.
export DIB_CLOUD_INIT_DATASOURCES=None
# For the source install type (the default): extra pip options (an index, find-links …),
# what to install first (pbr, glean's build requirement) and glean's requirement itself.
export DIB_SIMPLE_INIT_GLEAN_PIP_ARGS=${DIB_SIMPLE_INIT_GLEAN_PIP_ARGS:-}
export DIB_SIMPLE_INIT_GLEAN_PIP_PREINSTALL=${DIB_SIMPLE_INIT_GLEAN_PIP_PREINSTALL-pbr}
export DIB_SIMPLE_INIT_GLEAN_PACKAGE=${DIB_SIMPLE_INIT_GLEAN_PACKAGE:-glean}
# source-repositories fetches glean's repository (source-repository-simple-init) only for
# the repo install type: with pip (the default) there is nothing to clone, and no need to
# reach opendev.org.
if [ "${DIB_INSTALLTYPE_simple_init:-${DIB_DEFAULT_INSTALLTYPE:-source}}" = repo ]; then
    export DIB_INSTALLTYPE_glean=${DIB_INSTALLTYPE_glean:-source}
else
    export DIB_INSTALLTYPE_glean=${DIB_INSTALLTYPE_glean:-pip}
fi

# image.* tests: the OCI image of `make image` (issue 19 part 1).
#
# image.oci builds the image twice with scripts/image.py from this machine's own Debian root (the packages
# install-deps.sh installed: no download, a few seconds), requires the same digest from both, and checks one with
# tests/integration/image/check_image.py: the OCI layout (mediaTypes, digests and sizes of every blob), the config
# (non-root User, Entrypoint), the root (no shell, no setuid), and `couchestor --version`, `couchestor operator
# --help`, `nvme version`, `smartctl --version` run inside it, read-only and as the image's user.
# `make image-check` does the same with the image made from Debian's archive by mmdebstrap (downloads; not in
# `make check`). Not in the sanitizer builds: the sanitizer runtimes need /proc, which the image has not.
if(NOT CS_SANITIZE AND NOT CS_TSAN)
  add_test(NAME image.oci
           COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/image/check_image.py
                   --build-from-host $<TARGET_FILE:couchestor>)
  set_tests_properties(image.oci PROPERTIES
    ENVIRONMENT "${CS_TEST_ENV};PYTHONDONTWRITEBYTECODE=1;PYTHONUNBUFFERED=1"
    TIMEOUT 120
    LABELS "image")
endif()

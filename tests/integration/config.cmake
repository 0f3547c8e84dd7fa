# config.fields_read: every field of cs_config_t is read outside the loader (issue 14, "Every parameter
# parsed is used"); the other half, each key changing its field, is the unit test core.config_keys.
add_test(NAME config.fields_read
         COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/config/check_config_fields.py)
set_tests_properties(config.fields_read PROPERTIES
  ENVIRONMENT "CS_SOURCE_DIR=${PROJECT_SOURCE_DIR};PYTHONDONTWRITEBYTECODE=1"
  TIMEOUT 60)

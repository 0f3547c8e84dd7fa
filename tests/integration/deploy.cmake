# deploy.* tests: the manifests under deploy/ (issue 9, Deploy).
# deploy.manifests validates every document against the Kubernetes schemas (kubernetes-models,
# @kubernetes-models/prometheus-operator, the CRDs' openAPIV3Schema with ajv; Node script
# tests/fixtures/node/validate-manifests.mjs, `npm ci` first when node_modules lacks a package),
# then applies them to a Kubernetes API stand-in started on a free port and checks what was stored.
add_test(NAME deploy.manifests
         COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/deploy/check_manifests.py)
set_tests_properties(deploy.manifests PROPERTIES
  ENVIRONMENT "${CS_TEST_ENV};PYTHONDONTWRITEBYTECODE=1;PYTHONUNBUFFERED=1"
  TIMEOUT 180
  LABELS "deploy"
  # may run `npm ci` in tests/fixtures/node, as testworld.nodeclient may
  RESOURCE_LOCK tests_fixtures_node_modules)

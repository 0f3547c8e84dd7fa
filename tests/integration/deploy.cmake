# deploy.* tests: the manifests under deploy/ (issue 9, Deploy; issue 19 part 2, the kustomize layout;
# issue 14 part 10, no hard-coded namespace).
#
# deploy.kustomize resolves the base deploy/operator and the install overlays deploy/overlays/{openebs,mayastor}
# (also with the optional components) with tests/integration/deploy/kustomize.py, a resolver of the kustomize
# features deploy/ uses, compares with `kubectl kustomize` where kubectl exists, and checks namespaces,
# references, the RBAC against what src/ requests, the examples and the Prometheus scrape job (promtool).
add_test(NAME deploy.kustomize
         COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/deploy/check_kustomize.py)
# deploy.namespaces: no namespace written in deploy/ or src/ outside the documented places.
add_test(NAME deploy.namespaces
         COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/deploy/check_namespaces.py)
set_tests_properties(deploy.kustomize deploy.namespaces PROPERTIES
  ENVIRONMENT "${CS_TEST_ENV};PYTHONDONTWRITEBYTECODE=1;PYTHONUNBUFFERED=1"
  TIMEOUT 120
  LABELS "deploy")
# deploy.manifests validates what each overlay resolves to (plus deploy/examples) against the Kubernetes schemas
# (kubernetes-models, @kubernetes-models/prometheus-operator, the CRDs' openAPIV3Schema with ajv; Node script
# tests/integration/deploy/validate_objects.mjs, `npm ci` in tests/fixtures/node first when node_modules lacks
# a package), then applies it to a Kubernetes API stand-in started on a free port and checks what was stored.
add_test(NAME deploy.manifests
         COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/deploy/check_manifests.py)
set_tests_properties(deploy.manifests PROPERTIES
  ENVIRONMENT "${CS_TEST_ENV};PYTHONDONTWRITEBYTECODE=1;PYTHONUNBUFFERED=1"
  TIMEOUT 180
  LABELS "deploy"
  # may run `npm ci` in tests/fixtures/node, as testworld.nodeclient may
  RESOURCE_LOCK tests_fixtures_node_modules)
# deploy.discover: the optional component deploy/components/discover (a Job and a DaemonSet running `couchestor
# discover --diskpools`, issue 19 part 4) on each overlay: resolved, and its privileges exactly those it needs.
add_test(NAME deploy.discover
         COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/deploy/check_discover.py)
set_tests_properties(deploy.discover PROPERTIES
  ENVIRONMENT "${CS_TEST_ENV};PYTHONDONTWRITEBYTECODE=1;PYTHONUNBUFFERED=1"
  TIMEOUT 120
  LABELS "deploy")

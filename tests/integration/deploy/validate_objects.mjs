// Schema validation of resolved deploy/ objects (tests/integration/deploy/check_manifests.py hands them over):
// built-in kinds with the kubernetes-models classes (the Kubernetes API's OpenAPI schemas), ServiceMonitor
// and PodMonitor with @kubernetes-models/prometheus-operator, custom resources against the openAPIV3Schema of
// their CRD among the input (ajv; the server's defaulting applied, unknown fields rejected as
// fieldValidation=Strict would). The packages come from tests/fixtures/node/node_modules.
//   node validate_objects.mjs IN.json OUT.json
// IN: [{where, object}]; OUT: the same with `defaulted` for custom resources. One line per object; exit 1 on
// any error.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "fixtures", "node", "package.json"));
const Ajv = require("ajv");
const v1 = require("kubernetes-models/v1");
const apps = require("kubernetes-models/apps/v1");
const rbac = require("kubernetes-models/rbac.authorization.k8s.io/v1");
const apiext = require("kubernetes-models/apiextensions.k8s.io/v1");
const storage = require("kubernetes-models/storage.k8s.io/v1");
const mon = require("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1");

const MODELS = {
  "v1/Namespace": v1.Namespace, "v1/ServiceAccount": v1.ServiceAccount, "v1/Service": v1.Service,
  "apps/v1/Deployment": apps.Deployment,
  "rbac.authorization.k8s.io/v1/ClusterRole": rbac.ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": rbac.ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": rbac.Role, "rbac.authorization.k8s.io/v1/RoleBinding": rbac.RoleBinding,
  "apiextensions.k8s.io/v1/CustomResourceDefinition": apiext.CustomResourceDefinition,
  "storage.k8s.io/v1/StorageClass": storage.StorageClass,
  "monitoring.coreos.com/v1/ServiceMonitor": mon.ServiceMonitor, "monitoring.coreos.com/v1/PodMonitor": mon.PodMonitor,
};

const [inFile, outFile] = process.argv.slice(2);
const docs = JSON.parse(fs.readFileSync(inFile, "utf8"));
let failures = 0;
const line = (ok, d, how, detail) => {
  const o = d.object;
  if (!ok) failures++;
  console.log(`${ok ? "ok  " : "FAIL"} ${d.where} ${o.kind} ${o.metadata.namespace ? o.metadata.namespace + "/" : ""}${o.metadata.name}: ${how}${detail ? " — " + detail : ""}`);
};

function strictCopy(schema) {
  // A real server prunes (with strict field validation: rejects) fields its structural schema does not declare.
  if (Array.isArray(schema)) return schema.map(strictCopy);
  if (!schema || typeof schema !== "object") return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "default" || k === "example" || k === "enum") out[k] = v;
    else if (k === "properties") out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strictCopy(s)]));
    else out[k] = strictCopy(v);
  }
  if (out.type === "object" && out.properties && out.additionalProperties === undefined
      && !out["x-kubernetes-preserve-unknown-fields"]) out.additionalProperties = false;
  return out;
}

// The server always accepts apiVersion, kind and metadata at the root, declared or not.
const rootSchema = (s) => ({ ...s, properties: { apiVersion: { type: "string" }, kind: { type: "string" },
  metadata: { type: "object" }, ...(s.properties || {}) } });

const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true });
for (const f of ["int32", "int64", "float", "double", "byte", "date-time", "date", "duration", "quantity"]) ajv.addFormat(f, true);
const crds = new Map();
for (const d of docs) {
  const o = d.object;
  if (o.kind !== "CustomResourceDefinition") continue;
  for (const v of o.spec.versions) {
    if (v.served && v.schema) {
      crds.set(`${o.spec.group}/${v.name}/${o.spec.names.kind}`,
        { validate: ajv.compile(strictCopy(rootSchema(v.schema.openAPIV3Schema))), scope: o.spec.scope, name: o.metadata.name });
    }
  }
}
for (const d of docs) {
  const o = d.object;
  const key = `${o.apiVersion}/${o.kind}`;
  const Model = MODELS[key];
  if (Model) {
    try { new Model(o).validate(); line(true, d, `kubernetes-models ${o.kind}`); } catch (e) { line(false, d, `kubernetes-models ${o.kind}`, e.message); }
    continue;
  }
  const crd = crds.get(key);
  if (!crd) { line(false, d, "schema", `no schema for ${key}`); continue; }
  const copy = structuredClone(o);
  const problems = [];
  if ((crd.scope === "Cluster") !== !o.metadata.namespace) problems.push(`${crd.name} is ${crd.scope}: metadata.namespace ${o.metadata.namespace ? "set" : "missing"}`);
  if (!crd.validate(copy)) problems.push((crd.validate.errors || []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; "));
  line(problems.length === 0, d, `openAPIV3Schema of ${crd.name} (ajv)`, problems.join("; "));
  d.defaulted = copy;
}
fs.writeFileSync(outFile, JSON.stringify(docs));
console.log(`${docs.length} objects, ${failures} error(s)`);
process.exit(failures ? 1 : 0);

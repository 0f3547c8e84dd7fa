"""A resolver for the part of kustomize that deploy/ uses, so that the tests need no kustomize binary.

Implemented, following kustomize v5's documented semantics (kubectl kustomize, Kustomize v5.5.0, gives
the same objects for deploy/: the test deploy.kustomize compares the two where kubectl exists):

- kustomization files named `kustomization.yaml` or `Kustomization`; kinds Kustomization
  (kustomize.config.k8s.io/v1beta1) and Component (v1alpha1);
- `resources`: files (YAML documents) under the kustomization's root, or directories holding a
  kustomization, built first and in order; no absolute paths; a root may not contain another root
  on the same path (kustomize's cycle check);
- `components`: directories holding a Component; each adds its resources to what the including
  kustomization accumulated so far and runs its own transformers over all of it, in order,
  after the `resources` and before the including kustomization's transformers;
- `namespace` (the NamespaceTransformer, default settings): metadata.namespace is set on every
  object whose kind is not cluster-scoped (kustomize's built-in list below; custom kinds count as
  namespaced); a Namespace object is renamed to it; in RoleBinding and ClusterRoleBinding subjects,
  a subject named `default` gets it, and a ServiceAccount subject without a namespace gets it when
  a ServiceAccount of that name without a namespace is among the objects (kustomize updates the
  reference along with the ServiceAccount). Other subject forms that kustomize treats through
  back-references (an explicit namespace that names a ServiceAccount being moved) are refused;
- `replacements` (inline): source {kind, name[, namespace], fieldPath}, targets [{select {kind,
  name[, namespace]}, fieldPaths, options {create}}]; field paths are dot-separated with list
  element matchers `[key=value]`; with create, a missing map key or list element is added;
- then the transformers of one kustomization run in kustomize's order: namespace, then
  replacements.

Anything else in a kustomization (patches, generators, labels, images, ...) is refused with an
error naming it: deploy/ must not start using a feature this resolver does not implement.
"""
import copy
import os

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
API_VERSIONS = {"Kustomization": "kustomize.config.k8s.io/v1beta1", "Component": "kustomize.config.k8s.io/v1alpha1"}
SUPPORTED = {"apiVersion", "kind", "resources", "components", "namespace", "replacements"}

# kustomize's cluster-scoped kinds (kyaml resid.IsClusterScoped, the built-in Kubernetes kinds).
CLUSTER_SCOPED = {
    "APIService", "CSIDriver", "CSINode", "CertificateSigningRequest", "ClusterIssuer", "ClusterRole",
    "ClusterRoleBinding", "ComponentStatus", "CustomResourceDefinition", "FlowSchema", "IngressClass",
    "MutatingWebhookConfiguration", "Namespace", "Node", "PersistentVolume", "PodSecurityPolicy",
    "PriorityClass", "PriorityLevelConfiguration", "RuntimeClass", "SelfSubjectAccessReview",
    "SelfSubjectRulesReview", "StorageClass", "SubjectAccessReview", "TokenReview",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration",
    "VolumeAttachment",
}


class KustomizeError(Exception):
    pass


def object_id(o):
    md = o.get("metadata") or {}
    return (o.get("apiVersion"), o.get("kind"), md.get("namespace") or "", md.get("name"))


def describe(o):
    _, kind, ns, name = object_id(o)
    return "%s %s%s" % (kind, ns + "/" if ns else "", name)


def find_kustomization(d):
    found = [n for n in KUSTOMIZATION_FILES if os.path.isfile(os.path.join(d, n))]
    if not found:
        raise KustomizeError("%s: no kustomization file (%s)" % (d, ", ".join(KUSTOMIZATION_FILES)))
    if len(found) > 1:
        raise KustomizeError("%s: more than one kustomization file: %s" % (d, ", ".join(found)))
    return os.path.join(d, found[0])


def load_documents(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for i, d in enumerate(docs):
        if not isinstance(d, dict):
            raise KustomizeError("%s#%d: not a mapping" % (path, i + 1))
    return docs


def build(root, expect_kind="Kustomization", _visiting=()):
    """The objects of the kustomization in directory `root`, as kustomize would print them (in
    accumulation order, not kustomize's output order)."""
    return _build(os.path.realpath(root), expect_kind, list(_visiting), [])


def _build(root, expect_kind, visiting, accumulated):
    for v in visiting:
        if v == root or v.startswith(root + os.sep):
            raise KustomizeError("cycle detected: candidate root %s contains visited root %s" % (root, v))
    visiting = visiting + [root]
    kfile = find_kustomization(root)
    with open(kfile, encoding="utf-8") as f:
        k = yaml.safe_load(f) or {}
    kind = k.get("kind", "Kustomization")
    if kind != expect_kind:
        raise KustomizeError("%s: kind %s where a %s is expected" % (kfile, kind, expect_kind))
    if "apiVersion" in k and k["apiVersion"] != API_VERSIONS[kind]:
        raise KustomizeError("%s: apiVersion %s, want %s" % (kfile, k["apiVersion"], API_VERSIONS[kind]))
    unknown = sorted(set(k) - SUPPORTED)
    if unknown:
        raise KustomizeError("%s: not implemented by this resolver: %s" % (kfile, ", ".join(unknown)))

    objs = list(accumulated)   # a Component works on what its parent accumulated
    for r in k.get("resources") or []:
        if os.path.isabs(r):
            raise KustomizeError("%s: resource %s: absolute paths are not allowed" % (kfile, r))
        p = os.path.realpath(os.path.join(root, r))
        if os.path.isdir(p):
            new = _build(p, "Kustomization", visiting, [])
        elif os.path.isfile(p):
            if not (p + os.sep).startswith(root + os.sep):
                raise KustomizeError("%s: file %s is outside the kustomization's root (load restrictor)" % (kfile, r))
            new = [copy.deepcopy(d) for d in load_documents(p)]
        else:
            raise KustomizeError("%s: resource %s not found" % (kfile, r))
        for o in new:
            add(objs, o, kfile)
    for c in k.get("components") or []:
        if os.path.isabs(c):
            raise KustomizeError("%s: component %s: absolute paths are not allowed" % (kfile, c))
        p = os.path.realpath(os.path.join(root, c))
        if not os.path.isdir(p):
            raise KustomizeError("%s: component %s is not a directory" % (kfile, c))
        objs = _build(p, "Component", visiting, objs)
    if k.get("namespace"):
        set_namespace(objs, k["namespace"])
    for i, rep in enumerate(k.get("replacements") or []):
        replace(objs, rep, "%s: replacements[%d]" % (kfile, i))
    return objs


def add(objs, o, where):
    for f in ("apiVersion", "kind"):
        if not o.get(f):
            raise KustomizeError("%s: an object without %s" % (where, f))
    if not (o.get("metadata") or {}).get("name"):
        raise KustomizeError("%s: %s without metadata.name" % (where, o["kind"]))
    if any(object_id(x) == object_id(o) for x in objs):
        raise KustomizeError("%s: %s is already there (kustomize: may not add resource with an already "
                             "registered id)" % (where, describe(o)))
    objs.append(o)


def set_namespace(objs, ns):
    sa_names = {o["metadata"]["name"] for o in objs if o["kind"] == "ServiceAccount"
                and not o["metadata"].get("namespace")}
    sa_moving = {(o["metadata"].get("namespace") or "", o["metadata"]["name"]) for o in objs
                 if o["kind"] == "ServiceAccount"}
    for o in objs:
        md = o["metadata"]
        if o["kind"] == "Namespace":
            md["name"] = ns
        elif o["kind"] not in CLUSTER_SCOPED:
            md["namespace"] = ns
        if o["kind"] in ("RoleBinding", "ClusterRoleBinding"):
            for s in o.get("subjects") or []:
                if s.get("name") == "default":
                    s["namespace"] = ns
                elif s.get("kind") == "ServiceAccount" and not s.get("namespace"):
                    if s.get("name") in sa_names:
                        s["namespace"] = ns
                elif s.get("kind") == "ServiceAccount" and (s["namespace"], s.get("name")) in sa_moving:
                    raise KustomizeError("%s: subject ServiceAccount %s/%s names a ServiceAccount that the "
                                         "namespace transformer moves: not implemented" % (describe(o),
                                                                                        s["namespace"], s["name"]))


def _select(objs, sel, what):
    got = [o for o in objs if o["kind"] == sel.get("kind") and o["metadata"]["name"] == sel.get("name")
           and ("namespace" not in sel or o["metadata"].get("namespace") == sel["namespace"])]
    extra = sorted(set(sel) - {"kind", "name", "namespace", "fieldPath"})
    if extra:
        raise KustomizeError("%s: selector fields not implemented: %s" % (what, ", ".join(extra)))
    return got


def split_path(path):
    """'a.b.[name=x].c' -> ['a', 'b', ('name', 'x'), 'c']"""
    out = []
    for part in path.split("."):
        if part.startswith("[") and part.endswith("]") and "=" in part:
            key, _, val = part[1:-1].partition("=")
            out.append((key, val))
        elif not part or "[" in part or "]" in part:
            raise KustomizeError("field path %r: element %r not implemented" % (path, part))
        else:
            out.append(part)
    return out


def get_path(o, path):
    cur = o
    for p in split_path(path):
        if isinstance(p, tuple):
            if not isinstance(cur, list):
                return None
            match = [e for e in cur if isinstance(e, dict) and str(e.get(p[0])) == p[1]]
            if len(match) != 1:
                return None
            cur = match[0]
        else:
            if not isinstance(cur, dict) or p not in cur:
                return None
            cur = cur[p]
    return cur


def set_path(o, path, value, create, what):
    parts = split_path(path)
    cur = o
    for i, p in enumerate(parts):
        last = i == len(parts) - 1
        nxt = parts[i + 1] if not last else None
        if isinstance(p, tuple):
            if not isinstance(cur, list):
                raise KustomizeError("%s: %s: not a list at %r" % (what, path, p))
            match = [e for e in cur if isinstance(e, dict) and str(e.get(p[0])) == p[1]]
            if len(match) > 1:
                raise KustomizeError("%s: %s: %d elements match [%s=%s]" % (what, path, len(match), *p))
            if not match:
                if not create:
                    raise KustomizeError("%s: %s: no element [%s=%s] (and create is off)" % (what, path, *p))
                match = [{p[0]: p[1]}]
                cur.append(match[0])
            if last:
                raise KustomizeError("%s: %s: replacing a whole list element is not implemented" % (what, path))
            cur = match[0]
        else:
            if not isinstance(cur, dict):
                raise KustomizeError("%s: %s: not a mapping at %r" % (what, path, p))
            if last:
                if p not in cur and not create:
                    raise KustomizeError("%s: %s: no field %r (and create is off)" % (what, path, p))
                cur[p] = copy.deepcopy(value)
                return
            if p not in cur:
                if not create:
                    raise KustomizeError("%s: %s: no field %r (and create is off)" % (what, path, p))
                cur[p] = [] if isinstance(nxt, tuple) else {}
            cur = cur[p]


def replace(objs, rep, what):
    extra = sorted(set(rep) - {"source", "targets"})
    if extra:
        raise KustomizeError("%s: fields not implemented: %s" % (what, ", ".join(extra)))
    src = rep["source"]
    found = _select(objs, src, what + ".source")
    if len(found) != 1:
        raise KustomizeError("%s: source %s %s selects %d objects, want 1" % (what, src.get("kind"),
                                                                             src.get("name"), len(found)))
    value = get_path(found[0], src.get("fieldPath", "metadata.name"))
    if value is None:
        raise KustomizeError("%s: source %s has no %s" % (what, describe(found[0]), src.get("fieldPath")))
    for j, t in enumerate(rep.get("targets") or []):
        tw = "%s.targets[%d]" % (what, j)
        extra = sorted(set(t) - {"select", "fieldPaths", "options"})
        opts = t.get("options") or {}
        extra += sorted(set(opts) - {"create"})
        if extra:
            raise KustomizeError("%s: fields not implemented: %s" % (tw, ", ".join(extra)))
        targets = _select(objs, t["select"], tw)
        if not targets:
            raise KustomizeError("%s: selects no object" % tw)
        for o in targets:
            for fp in t.get("fieldPaths") or []:
                set_path(o, fp, value, bool(opts.get("create")), tw)

#!/usr/bin/env python3
"""Renders deploy/helm/ringgate with Helm's own engine (helm-python-sdk: Helm v4's Go SDK in a
PyPI wheel) for the value sets named on the command line, validates every manifest offline
against the Kubernetes JSON schemas of a current release (kubernetes-validate, strict: unknown
fields are errors), and prints one JSON object: {name: {"manifests": [...], "notes": str}} or
{name: {"error": str}} for a value set that fails to render.

Exit codes: 0 rendered and valid (render failures are reported, not fatal: some value sets are
meant to fail), 1 a manifest failed the schemas, 3 the tools are missing (the caller skips).

usage: render_chart.py CHART NAME=VALUES_FILE|NAME=-|NAME=@JSON|NAME=file:MANIFESTS ...
(file: validates a plain manifest file, e.g. deploy/kubernetes.yaml, without rendering.)
"""
import json
import sys

try:
    import helm_python as helm
    import kubernetes_validate
    import yaml
except ImportError as e:  # the caller installs them first; this is the "cannot install" path
    print(f"missing tool: {e}", file=sys.stderr)
    sys.exit(3)

KUBERNETES_VERSION = kubernetes_validate.latest_version()
# Kinds whose schemas are not in Kubernetes (CRDs); the Rust test checks these by hand.
CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}


def load_values(spec):
    if spec == "-":
        return {}
    if spec.startswith("@"):
        return json.loads(spec[1:])
    with open(spec) as f:
        return yaml.safe_load(f) or {}


def self_check():
    """The validator must be able to fail: a field Kubernetes does not have is refused."""
    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i", "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSecond": 5}}]},
            },
        },
    }
    try:
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError:
        return
    print("kubernetes-validate accepted a misspelt probe field: the validator checks nothing", file=sys.stderr)
    sys.exit(1)


def main():
    chart_dir, sets = sys.argv[1], sys.argv[2:]
    out = {}
    invalid = []
    self_check()
    with helm.Chart.load(chart_dir) as chart:
        for item in sets:
            name, spec = item.split("=", 1)
            if spec.startswith("file:"):
                with open(spec[5:]) as f:
                    rendered = {spec[5:]: f.read()}
            else:
                values = load_values(spec)
                try:
                    chart.validate_schema(values)
                    rendered = chart.render(values, name="rg", namespace="ringgate", is_install=True)
                except helm.HelmError as e:
                    out[name] = {"error": str(e)}
                    continue
            manifests, notes = [], ""
            for path, text in sorted(rendered.items()):
                if path.endswith("NOTES.txt"):
                    notes = text
                    continue
                for doc in yaml.safe_load_all(text):
                    if not doc:
                        continue
                    doc.setdefault("metadata", {}).setdefault("annotations", {})
                    manifests.append({"template": path, "doc": doc})
            for m in manifests:
                doc = m["doc"]
                if not doc["metadata"]["annotations"]:
                    del doc["metadata"]["annotations"]
                if (doc.get("apiVersion"), doc.get("kind")) in CRD_KINDS:
                    m["schema"] = "crd"
                    continue
                try:
                    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
                    m["schema"] = f"kubernetes {KUBERNETES_VERSION} strict"
                except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as e:
                    invalid.append(f"{name}: {m['template']} {doc.get('kind')}: {e}")
            out[name] = {"manifests": manifests, "notes": notes, "kubernetes": KUBERNETES_VERSION}
    print(json.dumps(out))
    if invalid:
        print("\n\n".join(invalid), file=sys.stderr)
        sys.exit(1)


main()

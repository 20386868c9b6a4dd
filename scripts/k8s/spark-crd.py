"""Prints the SparkApplication CustomResourceDefinition (sparkoperator.k8s.io/v1beta2) as JSON.

The schema is derived at set-up time from the operator's published API: the pydantic models of PyPI
`kubeflow-spark-api`, generated from the operator's OpenAPI document. Those models carry the types and
the required fields but no enums or bounds, so the facts of the operator's own CRD are added here:
the enums of `spec.type`, `spec.mode`, `spec.pythonVersion` and `spec.restartPolicy.type`, and
`cores` as an int32 of at least 1. A CRD's `openAPIV3Schema` must be structural: every `$ref` is
inlined, `anyOf [T, null]` becomes `T`, and the models' wrappers of Quantity and IntOrString become
`x-kubernetes-int-or-string`.

Usage: crd-venv/bin/python scripts/k8s/spark-crd.py > sparkapplications.json
"""

import json
import sys

from kubeflow_spark_api.models import SparkV1beta2SparkApplication

INT_OR_STRING = {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]}
# The models' oneOf wrappers: serialized as a bare int or string on the wire.
WRAPPERS = {"IoK8sApimachineryPkgApiResourceQuantity", "IoK8sApimachineryPkgUtilIntstrIntOrString"}
DROPPED_KEYS = {"title", "default", "$defs"}

ENUMS = {
    ("spec", "type"): ["Java", "Python", "Scala", "R"],
    ("spec", "mode"): ["cluster", "client"],
    ("spec", "pythonVersion"): ["2", "3"],
    ("spec", "restartPolicy", "type"): ["Never", "Always", "OnFailure"],
}
CORES = [("spec", "driver", "cores"), ("spec", "executor", "cores")]
SPEC_REQUIRED = ["driver", "executor", "mainApplicationFile", "sparkVersion", "type"]


def structural(node, defs, stack=()):
    """The node with every reference inlined and nullability dropped (a cycle is kept open)."""
    if isinstance(node, list):
        return [structural(item, defs, stack) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        extra = {k: v for k, v in node.items() if k not in ("$ref",) and k not in DROPPED_KEYS}
        if name in WRAPPERS:
            return {**extra, **INT_OR_STRING}
        if name in stack:  # recursive type: accept its content without describing it again
            return {**extra, "type": "object", "x-kubernetes-preserve-unknown-fields": True}
        inlined = structural(defs[name], defs, stack + (name,))
        return {**inlined, **structural(extra, defs, stack)}
    if "anyOf" in node:
        branches = [b for b in node["anyOf"] if b.get("type") != "null"]
        rest = {k: v for k, v in node.items() if k != "anyOf" and k not in DROPPED_KEYS}
        types = sorted(b.get("type") for b in branches if "type" in b and len(b) == 1)
        if len(branches) == 1:
            return {**structural(branches[0], defs, stack), **structural(rest, defs, stack)}
        if types == ["integer", "string"] or types == ["number", "string"]:
            return {**structural(rest, defs, stack), **INT_OR_STRING}
        if types == ["integer", "number"]:
            return {**structural(rest, defs, stack), "type": "number"}
        raise SystemExit(f"spark-crd: an anyOf this generator does not know: {json.dumps(node)[:200]}")
    out = {}
    for key, value in node.items():
        if key in DROPPED_KEYS:
            continue
        if key == "properties":
            out[key] = {name: structural(prop, defs, stack) for name, prop in value.items()}
        elif key == "additionalProperties" and value is True:
            out["x-kubernetes-preserve-unknown-fields"] = True
        else:
            out[key] = structural(value, defs, stack)
    if out.get("type") == "object" and "properties" not in out and "additionalProperties" not in out:
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def at(schema, path):
    node = schema
    for name in path:
        node = node["properties"][name]
    return node


def spark_application_schema():
    model = SparkV1beta2SparkApplication.model_json_schema(by_alias=True)
    defs = model["$defs"]
    schema = {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            # The root's metadata is the server's (a CRD may only restrict name and generateName).
            "metadata": {"type": "object"},
            "spec": structural(model["properties"]["spec"], defs),
            "status": structural(model["properties"]["status"], defs),
        },
    }
    for path, values in ENUMS.items():
        at(schema, path)["enum"] = values
    for path in CORES:
        at(schema, path).update({"type": "integer", "format": "int32", "minimum": 1})
    at(schema, ("spec",))["required"] = SPEC_REQUIRED
    return schema


def crd():
    columns = [
        ("Suspend", "boolean", ".spec.suspend"),
        ("Status", "string", ".status.applicationState.state"),
        ("Attempts", "string", ".status.executionAttempts"),
        ("Start", "string", ".status.lastSubmissionAttemptTime"),
        ("Finish", "string", ".status.terminationTime"),
        ("Age", "date", ".metadata.creationTimestamp"),
    ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": "sparkapplications.sparkoperator.k8s.io",
            "labels": {"app.kubernetes.io/managed-by": "nightjar-local-plane"},
            # The group lies under k8s.io, which the API server protects: the operator's CRD carries
            # this annotation too (there with the link to its approval).
            "annotations": {"api-approved.kubernetes.io": "unapproved, the spark-operator's own API group"},
        },
        "spec": {
            "group": "sparkoperator.k8s.io",
            "names": {
                "kind": "SparkApplication",
                "listKind": "SparkApplicationList",
                "plural": "sparkapplications",
                "singular": "sparkapplication",
                "shortNames": ["sparkapp"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1beta2",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": name, "type": kind, "jsonPath": path} for name, kind, path in columns
                    ],
                    "schema": {"openAPIV3Schema": spark_application_schema()},
                }
            ],
        },
    }


if __name__ == "__main__":
    json.dump(crd(), sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")

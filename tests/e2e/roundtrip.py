"""Every API on a Portico server, through its OpenAPI 3.0 export and back (issue #17).

    from roundtrip import check_roundtrip, validate_document
    check_roundtrip(gw, validate_document)          # gw: a boto3 apigatewayv2 client

For every API (all pages of get_apis, or only the ids given):

1. Current state: export JSON -> `verify` (openapi-spec-validator) -> import_api as a new API
   (no warnings allowed: whatever Portico exports it must import whole) -> export the copy ->
   the two documents are equal up to ids, and so are the two APIs resource by resource
   (get_api, get_routes, get_integrations, get_authorizers). The YAML export is the same
   document as the JSON one. The copy is deleted.
2. Each stage: export the stage JSON -> verify -> import as a new API -> export the copy's
   current state (the copy has no stages) -> equal to the stage's export up to ids and
   `servers`. The copy is deleted.
3. reimport_api of the API's own current export onto itself -> export again is unchanged,
   and so are its resources.

What may legitimately differ, and is normalised, nothing else:
- ids: the API's id (in `servers[0].url`, the execute-api host), and integration, route,
  authorizer and deployment ids wherever an exporter might write them (AWS names an unused
  integration `unusedIntegration_<id>` under components). Each id is replaced by a label
  numbered in an order that does not depend on the ids themselves, so two documents that
  share one integration between two routes still differ from two that do not.
- `servers`, when a stage's export is compared with its copy's current export: the stage's
  export names the stage's invoke URL and `basePath` (default: the stage name); the copy has
  no stage, so its export names none. The stage's `servers` entry is checked on its own: its
  URL or basePath names the stage.
- in the resource comparison, ids, dates, ApiEndpoint and the import's Warnings; and the
  API's Version when the original has none: OpenAPI requires `info.version`, so an export
  of an API without one writes something there (AWS and Portico: the creation date), and
  whatever imports that document gets it as its Version.
The stage settings (variables, throttling, logging) are not part of an OpenAPI document, on
AWS either, so they are not compared.

Failures are collected and raised together as one AssertionError with a unified diff of
the normalised documents (or resources) per failed comparison.

    python3 roundtrip.py selftest      # the normaliser and the diff, with no server
"""
import difflib
import json
import re
import sys

DIFF_LINES = 160


def validate_document(doc, label="document"):
    """openapi-spec-validator's OpenAPI 3.0 check; raises AssertionError naming what is wrong."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate(doc)
    except OpenAPIValidationError as e:
        where = "/".join(str(p) for p in getattr(e, "absolute_path", []) or [])
        raise AssertionError(
            f"{label} is not valid OpenAPI 3.0 (openapi-spec-validator): {e.message}"
            f"{' at /' + where if where else ''}"
        ) from None


def all_items(call, **kwargs):
    items, token = [], None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        items.extend(page.get("Items", []))
        token = page.get("NextToken")
        if not token:
            return items


def export_body(gw, api_id, stage=None, output="JSON", extensions=True):
    args = dict(ApiId=api_id, Specification="OAS30", OutputType=output,
                IncludeExtensions=extensions, ExportVersion="1.0")
    if stage is not None:
        args["StageName"] = stage
    return gw.export_api(**args)["body"].read().decode("utf-8")


def export_json(gw, api_id, stage=None, extensions=True):
    text = export_body(gw, api_id, stage, "JSON", extensions)
    try:
        return json.loads(text), text
    except ValueError as e:
        raise AssertionError(f"export of {api_id} (stage {stage}) is not JSON: {e}: {text[:300]!r}")


# --------------------------------------------------------------------------------------
# ids, and the labels that replace them
# --------------------------------------------------------------------------------------

def api_ids(gw, api_id):
    """Every id of the API's resources, and what it is."""
    ids = {api_id: "api"}
    for item in all_items(gw.get_integrations, ApiId=api_id):
        ids[item["IntegrationId"]] = "integration"
    for item in all_items(gw.get_routes, ApiId=api_id):
        ids[item["RouteId"]] = "route"
    for item in all_items(gw.get_authorizers, ApiId=api_id):
        ids[item["AuthorizerId"]] = "authorizer"
    try:
        for item in all_items(gw.get_deployments, ApiId=api_id):
            ids[item["DeploymentId"]] = "deployment"
    except Exception:  # noqa: BLE001 - only for labels; a damaged deployment may not list
        pass
    return ids


class Labels:
    """Replaces ids by `<kind-N>`, N in an order that does not depend on the ids' values."""

    def __init__(self, ids):
        self.ids = {i: k for i, k in ids.items() if i}
        alternatives = "|".join(re.escape(i) for i in sorted(self.ids, key=len, reverse=True))
        self.pattern = re.compile(f"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])") if alternatives else None
        self.labels = {}
        self.counts = {}

    def mask(self, text):
        return self.pattern.sub("<id>", text) if self.pattern else text

    def masked_tree(self, node):
        return json.dumps(self._masked(node), sort_keys=True)

    def _masked(self, node):
        if isinstance(node, dict):
            return {self.mask(k): self._masked(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self._masked(v) for v in node]
        if isinstance(node, str):
            return self.mask(node)
        return node

    def _see(self, text):
        if not self.pattern:
            return
        for m in self.pattern.finditer(text):
            found = m.group(0)
            if found not in self.labels:
                kind = self.ids[found]
                self.counts[kind] = self.counts.get(kind, 0) + 1
                self.labels[found] = f"<{kind}-{self.counts[kind]}>" if kind != "api" else "<api>"

    def _ordered(self, d):
        return sorted(d.items(), key=lambda kv: (self.mask(kv[0]), self.masked_tree(kv[1])))

    def _walk(self, node):
        if isinstance(node, dict):
            for k, v in self._ordered(node):
                self._see(k)
                self._walk(v)
        elif isinstance(node, list):
            for v in node:
                self._walk(v)
        elif isinstance(node, str):
            self._see(node)

    def _apply(self, node):
        sub = (lambda s: self.pattern.sub(lambda m: self.labels[m.group(0)], s)) if self.pattern else (lambda s: s)
        if isinstance(node, dict):
            return {sub(k): self._apply(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self._apply(v) for v in node]
        if isinstance(node, str):
            return sub(node)
        return node

    def normalise(self, node):
        self._walk(node)
        return self._apply(node)


def normalise(doc, ids, drop_servers=False):
    doc = json.loads(json.dumps(doc))
    if drop_servers:
        doc.pop("servers", None)
    return Labels(ids).normalise(doc)


def _typed(o):
    """What json cannot write (a YAML loader's dates, say) shown with its type."""
    return f"<{type(o).__name__} {o}>"


def pretty(value):
    return json.dumps(_shown(value), indent=2, sort_keys=True, default=_typed).splitlines()


def _shown(node):
    """Keys that are not strings (YAML's `200:` is an int) shown with their type."""
    if isinstance(node, dict):
        return {(k if isinstance(k, str) else _typed(k)): _shown(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_shown(v) for v in node]
    return node


def diff(before, after, before_name, after_name):
    lines = list(difflib.unified_diff(pretty(before), pretty(after), before_name, after_name, lineterm="", n=3))
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"... {len(lines) - DIFF_LINES} more diff lines"]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# the API, resource by resource, without ids
# --------------------------------------------------------------------------------------

API_FIELDS_DROPPED = {"ApiId", "ApiEndpoint", "CreatedDate", "Warnings", "ImportInfo", "ResponseMetadata"}


def _plain(item, dropped):
    return {k: v for k, v in item.items() if k not in dropped}


def comparable(before, after):
    """The two models without what may differ (see the module's docstring)."""
    before, after = json.loads(json.dumps(before)), json.loads(json.dumps(after))
    if not before["api"].get("Version"):
        before["api"].pop("Version", None)
        after["api"].pop("Version", None)
    return before, after


def api_model(gw, api_id):
    """get_api, get_integrations, get_authorizers and get_routes with every id replaced by
    what it names: a route's target is its integration's content, its authorizer its name,
    and which routes share one integration is kept as a partition of route keys."""
    api = _plain(gw.get_api(ApiId=api_id), API_FIELDS_DROPPED)
    integrations = {i["IntegrationId"]: _plain(i, {"IntegrationId", "ResponseMetadata"})
                    for i in all_items(gw.get_integrations, ApiId=api_id)}
    authorizers = {a["AuthorizerId"]: _plain(a, {"AuthorizerId", "ResponseMetadata"})
                   for a in all_items(gw.get_authorizers, ApiId=api_id)}
    routes, sharing = {}, {}
    for r in all_items(gw.get_routes, ApiId=api_id):
        route = _plain(r, {"RouteId", "ResponseMetadata", "ApiGatewayManaged"})
        target = route.pop("Target", None)
        if target:
            integration_id = target.split("/", 1)[1] if target.startswith("integrations/") else target
            route["Target"] = integrations.get(integration_id, f"<missing integration {integration_id}>")
            sharing.setdefault(integration_id, []).append(r["RouteKey"])
        authorizer_id = route.pop("AuthorizerId", None)
        if authorizer_id:
            route["Authorizer"] = authorizers.get(authorizer_id, {}).get("Name", f"<missing {authorizer_id}>")
        routes[r["RouteKey"]] = route
    return {
        "api": api,
        "routes": routes,
        "integrations": sorted((json.dumps(i, sort_keys=True) for i in integrations.values())),
        "routesSharingAnIntegration": sorted(sorted(keys) for keys in sharing.values() if len(keys) > 1),
        "authorizers": {a["Name"]: a for a in authorizers.values()},
    }


# --------------------------------------------------------------------------------------
# the round trip
# --------------------------------------------------------------------------------------

def _error(e):
    err = getattr(e, "response", {}).get("Error", {})
    return f"{err.get('Code', type(e).__name__)}: {err.get('Message', e)}"


def _import_copy(gw, doc, label, problems):
    """import_api of `doc`; the new API's id, or None (the failure is in `problems`)."""
    try:
        made = gw.import_api(Body=json.dumps(doc), FailOnWarnings=False)
    except Exception as e:  # noqa: BLE001 - reported with the document
        problems.append(f"{label}: import_api of the export failed: {_error(e)}\n"
                        + "\n".join(pretty(doc)[:80]))
        return None
    warnings = made.get("Warnings") or []
    if warnings:
        problems.append(f"{label}: importing Portico's own export warned (it must import whole): {warnings}")
    return made["ApiId"]


def _stage_server_names_stage(doc, stage):
    servers = doc.get("servers") or []
    if not servers:
        return f"has no servers entry (want the invoke URL of stage {stage})"
    first = servers[0]
    base = ((first.get("variables") or {}).get("basePath") or {}).get("default")
    url = first.get("url", "")
    # The $default stage is served at the root: its base path is empty.
    want = "" if stage == "$default" else stage
    if base is not None and base.strip("/") == want:
        return None
    if url.rstrip("/").endswith("/" + stage):
        return None
    return f"servers[0] names no stage {stage!r}: {first}"


def check_roundtrip(gw, verify=validate_document, only=None, reimport=True):
    """The round trip of every API (or of `only`, a list of ids); raises AssertionError with
    every failure and its diff. Returns a summary."""
    apis = [a for a in all_items(gw.get_apis) if only is None or a["ApiId"] in only]
    problems, copies = [], []
    summary = {"apis": 0, "stages": 0, "exports": 0, "copies": 0, "reimports": 0}

    def check(doc, label):
        summary["exports"] += 1
        try:
            verify(doc, label)
        except AssertionError as e:
            problems.append(str(e))

    try:
        for api in apis:
            api_id, name = api["ApiId"], api.get("Name")
            summary["apis"] += 1
            label = f"API {name} ({api_id})"
            try:
                current, _ = export_json(gw, api_id)
            except Exception as e:  # noqa: BLE001
                problems.append(f"{label}: export_api (current state) failed: {_error(e)}")
                continue
            check(current, f"{label} current export")
            ids = api_ids(gw, api_id)
            before_model = api_model(gw, api_id)

            # The YAML export is the same document.
            try:
                import yaml
                as_yaml = yaml.safe_load(export_body(gw, api_id, output="YAML"))
                if as_yaml != current:
                    problems.append(f"{label}: the YAML export is not the JSON export:\n"
                                    + diff(current, as_yaml, "JSON", "YAML"))
            except Exception as e:  # noqa: BLE001
                problems.append(f"{label}: export_api OutputType=YAML failed: {_error(e)}")

            # 1. Current state -> copy -> export.
            copy_id = _import_copy(gw, current, f"{label} current export", problems)
            if copy_id:
                copies.append(copy_id)
                summary["copies"] += 1
                again, _ = export_json(gw, copy_id)
                check(again, f"copy {copy_id} of {label}: export")
                a, b = normalise(current, ids), normalise(again, api_ids(gw, copy_id))
                if a != b:
                    problems.append(f"{label}: export -> import -> export differs (ids normalised):\n"
                                    + diff(a, b, f"export of {api_id}", f"export of its copy {copy_id}"))
                a, b = comparable(before_model, api_model(gw, copy_id))
                if a != b:
                    problems.append(f"{label}: the API imported from its export is not the same API:\n"
                                    + diff(a, b, f"{api_id} resources", f"copy {copy_id} resources"))

            # 2. Each stage -> copy -> the copy's current export.
            for stage in all_items(gw.get_stages, ApiId=api_id):
                stage_name = stage["StageName"]
                summary["stages"] += 1
                slabel = f"{label} stage {stage_name}"
                try:
                    staged, _ = export_json(gw, api_id, stage=stage_name)
                except Exception as e:  # noqa: BLE001
                    problems.append(f"{slabel}: export_api failed: {_error(e)}")
                    continue
                check(staged, f"{slabel} export")
                wrong = _stage_server_names_stage(staged, stage_name)
                if wrong:
                    problems.append(f"{slabel}: the export {wrong}")
                stage_copy = _import_copy(gw, staged, f"{slabel} export", problems)
                if not stage_copy:
                    continue
                copies.append(stage_copy)
                summary["copies"] += 1
                again, _ = export_json(gw, stage_copy)
                check(again, f"copy {stage_copy} of {slabel}: export")
                a = normalise(staged, ids, drop_servers=True)
                b = normalise(again, api_ids(gw, stage_copy), drop_servers=True)
                if a != b:
                    problems.append(f"{slabel}: stage export -> import -> export differs (ids and servers normalised):\n"
                                    + diff(a, b, f"export of stage {stage_name}", f"export of its copy {stage_copy}"))

            # 3. Reimport of its own export onto itself changes nothing.
            if reimport:
                summary["reimports"] += 1
                try:
                    made = gw.reimport_api(ApiId=api_id, Body=json.dumps(current), FailOnWarnings=False)
                    if made.get("Warnings"):
                        problems.append(f"{label}: reimporting its own export warned: {made['Warnings']}")
                except Exception as e:  # noqa: BLE001
                    problems.append(f"{label}: reimport_api of its own export failed: {_error(e)}")
                    continue
                after, _ = export_json(gw, api_id)
                a, b = normalise(current, ids), normalise(after, api_ids(gw, api_id))
                if a != b:
                    problems.append(f"{label}: reimport of its own export changed the export (ids normalised):\n"
                                    + diff(a, b, "before reimport", "after reimport"))
                a, b = comparable(before_model, api_model(gw, api_id))
                if a != b:
                    problems.append(f"{label}: reimport of its own export changed the API:\n"
                                    + diff(a, b, "before reimport", "after reimport"))
    finally:
        for copy_id in copies:
            try:
                gw.delete_api(ApiId=copy_id)
            except Exception as e:  # noqa: BLE001
                problems.append(f"deleting the copy {copy_id} failed: {_error(e)}")
    if problems:
        raise AssertionError(f"round trip of {summary['apis']} API(s): {len(problems)} problem(s)\n\n"
                             + "\n\n".join(problems))
    return summary


# --------------------------------------------------------------------------------------
# selftest: the normaliser, the diff and the validator, with no server
# --------------------------------------------------------------------------------------

def _doc(api, a, b, shared):
    """An export-shaped document: api id in servers, integration ids in component names."""
    second = a if shared else b
    return {
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": f"http://{api}.execute-api.localhost:8000/{{basePath}}",
                     "variables": {"basePath": {"default": ""}}}],
        "paths": {
            "/x": {"get": {"responses": {"default": {"description": "d"}},
                           "x-amazon-apigateway-integration": {"$ref": f"#/components/x-amazon-apigateway-integrations/i_{a}"}}},
            "/y": {"get": {"responses": {"default": {"description": "d"}},
                           "x-amazon-apigateway-integration": {"$ref": f"#/components/x-amazon-apigateway-integrations/i_{second}"}}},
        },
        "components": {"x-amazon-apigateway-integrations": {
            f"i_{a}": {"type": "http_proxy", "uri": "http://a", "httpMethod": "ANY", "payloadFormatVersion": "1.0"},
            f"i_{b}": {"type": "http_proxy", "uri": "http://b", "httpMethod": "ANY", "payloadFormatVersion": "1.0"},
        }},
    }


def selftest():
    checks = {}
    ids1 = {"api1aaaaaa": "api", "zzint00001": "integration", "aaint00002": "integration"}
    ids2 = {"api2bbbbbb": "api", "mmint00003": "integration", "bbint00004": "integration"}
    d1 = _doc("api1aaaaaa", "zzint00001", "aaint00002", shared=False)
    d2 = _doc("api2bbbbbb", "mmint00003", "bbint00004", shared=False)
    checks["sameUpToIds"] = normalise(d1, ids1) == normalise(d2, ids2)
    # Same ids, but the other integration's order in the alphabet: still equal.
    d3 = _doc("api2bbbbbb", "bbint00004", "mmint00003", shared=False)
    checks["labelsIgnoreIdOrder"] = normalise(d1, ids1) == normalise(d3, ids2)
    shared = _doc("api2bbbbbb", "mmint00003", "bbint00004", shared=True)
    checks["sharingDiffers"] = normalise(d1, ids1) != normalise(shared, ids2)
    uri = json.loads(json.dumps(d2))
    uri["components"]["x-amazon-apigateway-integrations"]["i_bbint00004"]["uri"] = "http://c"
    checks["contentDiffers"] = normalise(d1, ids1) != normalise(uri, ids2)
    text = diff(normalise(d1, ids1), normalise(uri, ids2), "a", "b")
    lines = text.splitlines()
    checks["diffNamesTheChange"] = (any(l.startswith("-") and '"uri": "http://b"' in l for l in lines)
                                    and any(l.startswith("+") and '"uri": "http://c"' in l for l in lines))
    # An id inside a longer word is not an id.
    checks["wholeTokensOnly"] = normalise({"k": "xapi1aaaaaay"}, ids1) == {"k": "xapi1aaaaaay"}
    checks["serversDropped"] = "servers" not in normalise(d1, ids1, drop_servers=True)
    checks["stageServer"] = (_stage_server_names_stage({"servers": [{"url": "http://h/{basePath}", "variables": {"basePath": {"default": "dev"}}}]}, "dev") is None
                             and _stage_server_names_stage({"servers": [{"url": "http://h/{basePath}", "variables": {"basePath": {"default": ""}}}]}, "$default") is None
                             and _stage_server_names_stage({"servers": [{"url": "http://h/"}]}, "dev") is not None)
    try:
        validate_document(d1, "d1")
        checks["validDocumentPasses"] = True
    except AssertionError as e:
        checks["validDocumentPasses"] = str(e)
    bad = json.loads(json.dumps(d1))
    del bad["info"]
    try:
        validate_document(bad, "bad")
        checks["invalidDocumentFails"] = False
    except AssertionError as e:
        checks["invalidDocumentFails"] = "bad is not valid OpenAPI 3.0" in str(e)
    failed = [k for k, v in checks.items() if v is not True]
    print(json.dumps({"ok": not failed, "failed": failed, "checks": checks}))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1:] == ["selftest"]:
        selftest()
    else:
        raise SystemExit(__doc__)

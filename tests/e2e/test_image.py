"""The container image, built with podman and run the way the Actions runner runs it.

The base images cannot be pulled here, so the image is built on a local Debian base
(``tests/support/image/build_base.sh``: debootstrap, cached under
``~/.cache/covbot-image/`` by the builder script's hash) passed as ``--build-arg BASE``.
The runs mount a sample repository at ``/github/workspace`` and pass the runner's
variables (``INPUT_*``, ``GITHUB_*``), with ``--network host`` so the container reaches
the fake GitHub API on 127.0.0.1.

``COVBOT_TEST_IMAGE=localhost/covbot:tag`` runs the tests on an image built beforehand
instead of building one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from support.repo_factory import PY, Repo, clean_env, sample_pyproject

pytestmark = pytest.mark.podman

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "tests" / "support" / "image"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "covbot-image"
NEEDED = ("podman", "buildah", "runc", "debootstrap")


def _unavailable() -> str | None:
    if sys.platform != "linux":
        return "the image test needs Linux"
    if os.geteuid() != 0:
        return "the image test needs root (podman with runc and cgroupfs, as .ci/run sets up)"
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        return (f"the image test needs {', '.join(missing)}: "
                "apt-get install podman buildah runc debootstrap (.ci/run does)")
    return None


def podman_env() -> dict[str, str]:
    env = clean_env()
    env["CONTAINERS_CONF"] = str(SUPPORT / "containers.conf")
    return env


def podman(*args: str, check: bool = True, timeout: float = 900,
           env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(["podman", *args], env=env or podman_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} exited {proc.returncode}\n"
                             f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}")
    return proc


# -- the image --------------------------------------------------------------------------

#: The base's image configuration (what the official image sets too). The CA bundle this
#: machine's pip trusts is part of the base's files (build_base.sh): podman's layer cache
#: matches build steps by their parent layer, not by the base's configuration.
BASE_CHANGES = ("ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "ENV LANG=C.UTF-8")


@pytest.fixture(scope="module")
def base_image() -> str:
    """``localhost/covbot-base:<hash>``: the Debian stand-in for the official slim image."""
    reason = _unavailable()
    if reason:
        pytest.skip(reason)
    script = SUPPORT / "build_base.sh"
    script_key = hashlib.sha256(script.read_bytes()).hexdigest()[:16]
    key = hashlib.sha256(script.read_bytes() + "\n".join(BASE_CHANGES).encode()).hexdigest()[:16]
    tag = f"localhost/covbot-base:{key}"
    if podman("image", "exists", tag, check=False).returncode == 0:
        return tag
    tarball = CACHE / f"base-{script_key}.tar"
    for stale in CACHE.glob("base-*.tar"):          # made by an older build_base.sh
        if stale != tarball:
            stale.unlink(missing_ok=True)
    if not tarball.is_file():
        start = time.monotonic()
        proc = subprocess.run(["bash", str(script), str(tarball)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=900, env=clean_env())
        assert proc.returncode == 0, f"building the base image failed:\n{proc.stdout[-4000:]}"
        print(f"\nbase root filesystem built in {time.monotonic() - start:.0f} s", file=sys.stderr)
    changes = [arg for change in BASE_CHANGES for arg in ("--change", change)]
    podman("import", *changes, str(tarball), tag)
    return tag


@pytest.fixture(scope="module")
def image(base_image: str) -> str:
    """The action's image, built from this checkout's Dockerfile (layers cached by podman)."""
    prebuilt = os.environ.get("COVBOT_TEST_IMAGE")
    if prebuilt:
        return prebuilt
    if not (ROOT / "entrypoint.sh").is_file():
        pytest.fail("entrypoint.sh is missing: the Dockerfile copies it into the image")
    tag = f"localhost/covbot:test-{base_image.rsplit(':', 1)[1]}"
    start = time.monotonic()
    podman("build", "--network", "host", "--build-arg", f"BASE={base_image}", "-t", tag,
           "-f", str(ROOT / "Dockerfile"), str(ROOT), timeout=1200)
    print(f"\nimage built in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return tag


def run_in_image(image: str, *cmd: str, entrypoint: str | None = None, volumes=(),
                 env: dict[str, str] | None = None, workdir: str | None = None,
                 timeout: float = 600) -> subprocess.CompletedProcess:
    args = ["run", "--rm", "--network", "host"]
    if entrypoint is not None:
        args += ["--entrypoint", entrypoint]
    for host, guest in volumes:
        args += ["-v", f"{host}:{guest}"]
    if workdir:
        args += ["-w", workdir]
    for key, value in (env or {}).items():
        args += ["-e", f"{key}={value}"]
    return podman(*args, image, *cmd, check=False, timeout=timeout)


# -- what the image is ------------------------------------------------------------------

def test_image_configuration(image: str) -> None:
    config = json.loads(podman("image", "inspect", image).stdout)[0]["Config"]
    assert config["Entrypoint"] == ["/opt/covbot/entrypoint.sh"]
    assert config.get("User", "") in ("", "root", "0")          # GitHub runs actions as root
    assert config.get("WorkingDir", "") in ("", "/")             # the runner passes -w itself
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PATH"].split(":")[0] == "/opt/venv/bin"


def test_image_contents(image: str) -> None:
    script = r"""
set -e
covbot --help >/dev/null && echo covbot=ok
uv --version
git --version
echo "safe=$(git config --system --get-all safe.directory)"
test -x /opt/covbot/entrypoint.sh && echo entrypoint=ok
python -c 'import sys, coverage; print("python", sys.prefix, coverage.__version__)'
for tool in gcc cc make; do command -v "$tool" >/dev/null && echo "buildtool=$tool"; done
test -e /src && echo "leftover=/src"
echo done
"""
    proc = run_in_image(image, "-c", script, entrypoint="/bin/sh")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "covbot=ok" in out
    assert re.search(r"^uv \d+\.\d+\.\d+", out, re.M)
    assert re.search(r"^git version 2\.", out, re.M)
    assert "safe=*" in out
    assert "entrypoint=ok" in out
    assert re.search(r"^python /opt/venv 7\.", out, re.M), out
    assert "buildtool=" not in out and "leftover=" not in out, out
    assert out.rstrip().endswith("done")


def test_image_has_bytecode_for_what_an_action_run_imports(image: str) -> None:
    """Every run starts a fresh container: modules without a bytecode cache would be
    compiled again on every run (uv writes none unless asked)."""
    script = (
        "import importlib.util, pathlib, bot, github, msgspec, defusedxml, coverage\n"
        "for pkg in (bot, github, msgspec, defusedxml, coverage):\n"
        "    sources = list(pathlib.Path(pkg.__file__).parent.rglob('*.py'))\n"
        "    missing = [s for s in sources if not pathlib.Path(importlib.util.cache_from_source(str(s))).is_file()]\n"
        "    print(pkg.__name__, len(sources), len(missing))\n"
    )
    proc = run_in_image(image, "-B", "-c", script, entrypoint="python")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert [r[0] for r in rows] == ["bot", "github", "msgspec", "defusedxml", "coverage"]
    for name, sources, missing in rows:
        assert int(sources) > 0 and int(missing) == 0, (name, sources, missing)


# -- a sample project, run like the runner does -------------------------------------------

PYPROJECT = sample_pyproject()

OPS_BASE = """
    def add(a, b):
        return a + b


    def sign(x):
        if x < 0:
            return -1
        if x == 0:
            return 0
        return 1
"""

OPS_PR = OPS_BASE + """

    def clamp(x, low, high):
        if low > high:
            raise ValueError("low > high")
        if x < low:
            return low
        if x > high:
            return high
        return x


    def unused(x):
        y = x * 2
        return y + 1
"""

TESTS_BASE = """
    from calc.ops import add, sign


    def test_add():
        assert add(2, 3) == 5


    def test_sign():
        assert sign(-4) == -1
        assert sign(3) == 1
"""

TESTS_PR = TESTS_BASE + """

    from calc.ops import clamp


    def test_clamp():
        assert clamp(5, 0, 3) == 3
        assert clamp(-1, 0, 3) == 0
"""


@pytest.fixture()
def sample(tmp_path: Path) -> Repo:
    """``main`` with a tested module, and a PR branch that adds a partly tested function."""
    repo = Repo.create(tmp_path / "proj", {
        "pyproject.toml": PYPROJECT,
        "src/calc/__init__.py": "",
        "src/calc/ops.py": OPS_BASE,
        "tests/test_ops.py": TESTS_BASE,
        ".gitignore": ".coverage\n.covbot/\n__pycache__/\n",
    })
    repo.checkout("pr", new=True)
    repo.commit({"src/calc/ops.py": OPS_PR, "tests/test_ops.py": TESTS_PR}, "add clamp")
    return repo


def read_github_output(path: Path) -> dict[str, str]:
    """Parse a ``$GITHUB_OUTPUT`` file: ``name=value`` lines and ``name<<DELIM`` blocks."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            values[name] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        i += 1
    return values


def runner_env(repo: Repo, run_dir: Path, inputs: dict[str, str], *, event_name: str,
               event: dict, api_url: str | None = None) -> dict[str, str]:
    """The variables the Actions runner passes to a container action (paths as the container sees them)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "event.json").write_text(json.dumps(event), encoding="utf-8")
    (run_dir / "output").write_text("", encoding="utf-8")
    (run_dir / "summary.md").write_text("", encoding="utf-8")
    env = {
        "CI": "true", "GITHUB_ACTIONS": "true", "HOME": "/github/home",
        "GITHUB_WORKSPACE": "/github/workspace", "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": "/github/workflow/event.json",
        "GITHUB_OUTPUT": "/github/workflow/output",
        "GITHUB_STEP_SUMMARY": "/github/workflow/summary.md",
        "GITHUB_REPOSITORY": "octo/proj", "GITHUB_SHA": repo.sha(),
        "GITHUB_REF": "refs/heads/pr", "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "1", "GITHUB_ACTION": "covbot", "RUNNER_TEMP": "/github/runner_temp",
        "COVBOT_DEBUG": "1",                 # a traceback in the test log if covbot breaks
    }
    if api_url:
        env["GITHUB_API_URL"] = api_url
    env.update(action_inputs_env(inputs, token=inputs.get("github-token", "")))
    return env


def action_inputs_env(inputs: dict[str, str], *, token: str) -> dict[str, str]:
    """What the runner derives from action.yml: ``INPUT_<NAME>`` for every input (its
    default when not given, hyphens kept) and ``runs.env`` with ``${{ inputs.x }}`` filled in."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    unknown = set(inputs) - set(action["inputs"])
    assert not unknown, f"not inputs of action.yml: {unknown}"

    def expand(text: str) -> str:
        def one(m: re.Match) -> str:
            expr = m.group(1).strip()
            if expr == "github.token":
                return token
            if expr.startswith("inputs."):
                return values[expr[len("inputs."):]]
            raise AssertionError(f"action.yml uses ${{{{ {expr} }}}}, which this test does not emulate")
        return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))

    values: dict[str, str] = {}
    for name, spec in action["inputs"].items():
        values[name] = inputs[name] if name in inputs else expand((spec or {}).get("default", ""))
    env = {f"INPUT_{name.upper()}": value for name, value in values.items()}
    for key, value in (action["runs"].get("env") or {}).items():
        env[key] = expand(value)
    return env


def run_action(image: str, repo: Repo, run_dir: Path, env: dict[str, str],
               timeout: float = 600) -> subprocess.CompletedProcess:
    (run_dir / "home").mkdir(exist_ok=True)
    (run_dir / "runner_temp").mkdir(exist_ok=True)
    volumes = [(repo.path, "/github/workspace"), (run_dir, "/github/workflow"),
               (run_dir / "home", "/github/home"), (run_dir / "runner_temp", "/github/runner_temp")]
    return run_in_image(image, volumes=volumes, env=env, workdir="/github/workspace", timeout=timeout)


def test_report_only_run_on_host_coverage(image: str, sample: Repo, tmp_path: Path) -> None:
    """Tests ran in an earlier step on the runner; the container maps the paths and reports."""
    sample.coverage_run_pytest()                     # .coverage with this machine's absolute paths
    expected = sample.coverage_json()["totals"]
    sample.coverage("xml", "-o", "coverage.xml")
    dc = sample.diff_cover("coverage.xml")
    (sample.path / "coverage.xml").unlink()

    run_dir = tmp_path / "run"
    env = runner_env(sample, run_dir, {"coverage-files": ".coverage", "base": "main", "baseline": "none"},
                     event_name="push", event={"ref": "refs/heads/pr", "after": sample.sha()})
    proc = run_action(image, sample, run_dir, env)
    assert proc.returncode in (0, 1), f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"

    report = json.loads((sample.path / ".covbot" / "report.json").read_text(encoding="utf-8"))
    assert report["head"]["sha"] == sample.sha()
    assert report["totals"]["statements"] == expected["num_statements"]
    assert report["totals"]["percent_covered"] == pytest.approx(expected["percent_covered"], abs=0.005)
    assert report["diff"]["num_lines"] == dc["total_num_lines"]
    assert report["diff"]["num_violations"] == dc["total_num_violations"]
    assert report["diff"]["percent_covered"] == pytest.approx(dc["total_percent_covered"], abs=0.005)

    summary = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert summary.strip(), "the job summary is always written"
    assert f"{expected['percent_covered']:.2f}"[:4] in summary
    outputs = read_github_output(run_dir / "output")
    assert outputs["coverage"] == f"{report['totals']['percent_covered']:.2f}"
    assert outputs["diff-coverage"] == f"{dc['total_percent_covered']:.2f}"
    assert outputs["delta"] == ""                               # no baseline asked for
    assert outputs["report-path"] == "/github/workspace/.covbot/report.json"
    assert outputs["verdict"] == ("passed" if report["verdict"]["passed"] else "failed")
    assert proc.returncode == (0 if report["verdict"]["passed"] else 1)


# -- a pull request run against the fake GitHub API ---------------------------------------

class FakeGitHubProcess:
    """``python tests/support/fakegithub.py`` as its own process, its state read back from the state file."""

    def __init__(self, state_file: Path, seed: dict):
        self.state_file = state_file
        state_file.write_text(json.dumps(seed), encoding="utf-8")
        self.proc = subprocess.Popen([PY, str(ROOT / "tests" / "support" / "fakegithub.py"), "--port", "0",
                                      "--state", str(state_file)], cwd=ROOT, env=clean_env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert m, f"the fake GitHub server did not start: {line!r}"
        self.url = m.group(1)

    def state(self) -> dict:
        return json.loads(self.state_file.read_text(encoding="utf-8"))

    def comments(self, repo: str, number: int) -> list[dict]:
        return self.state()["repos"][repo]["comments"].get(str(number), [])

    def transcript(self) -> list[str]:
        return [f"{m} {p} -> {s}" for m, p, s in self.state()["requests"]]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture()
def fake_github(sample: Repo, tmp_path: Path):
    seed = {"repos": {"octo/proj": {"pulls": [{
        "number": 7, "head_sha": sample.sha("pr"), "base_sha": sample.sha("main"),
        "head_ref": "pr", "base_ref": "main"}]}},
        "tokens": {"ghs_writer": {"write": True}}}
    gh = FakeGitHubProcess(tmp_path / "github-state.json", seed)
    yield gh
    gh.stop()


def pull_request_checkout(repo: Repo) -> str:
    """What actions/checkout gives on ``pull_request``: a synthetic merge of the PR into main."""
    repo.git("checkout", "-q", "--detach", "main")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "pr")
    return repo.sha()


def pr_event(repo: Repo, number: int = 7) -> dict:
    return {"action": "synchronize", "number": number,
            "pull_request": {"number": number, "head": {"sha": repo.sha("pr"), "ref": "pr",
                                                        "repo": {"full_name": "octo/proj"}},
                             "base": {"sha": repo.sha("main"), "ref": "main",
                                      "repo": {"full_name": "octo/proj"}}},
            "repository": {"full_name": "octo/proj", "default_branch": "main"}}


PR_INPUTS = {"github-token": "ghs_writer", "install-command": "uv pip install pytest",
             "test-command": "pytest -q -p no:cacheprovider"}


def test_pull_request_runs_tests_comments_and_sets_status(image: str, sample: Repo, fake_github,
                                                           tmp_path: Path) -> None:
    # What the comment must say, from the real tools on this machine.
    sample.coverage_run_pytest()
    expected = sample.coverage_json()["totals"]
    sample.coverage("xml", "-o", "coverage.xml")
    dc = sample.diff_cover("coverage.xml")
    for leftover in (".coverage", "coverage.xml"):
        (sample.path / leftover).unlink()

    runs = []
    for push in (1, 2):
        if push == 2:       # a second push to the same PR: still one comment, now about this run
            sample.git("checkout", "-q", "pr")
            sample.commit({"tests/test_ops.py": TESTS_PR + TEST_UNUSED}, "test unused")
        merge_sha = pull_request_checkout(sample)
        run_dir = tmp_path / f"run{push}"
        env = runner_env(sample, run_dir, PR_INPUTS, event_name="pull_request",
                         event=pr_event(sample), api_url=fake_github.url)
        env["GITHUB_SHA"] = merge_sha
        start = time.monotonic()
        proc = run_action(image, sample, run_dir, env)
        runs.append((proc, run_dir, time.monotonic() - start))
        assert proc.returncode in (0, 1), f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"

    print("\n".join(["", "fake GitHub transcript:", *fake_github.transcript()]), file=sys.stderr)
    print(f"container runs: {', '.join(f'{d:.1f} s' for _, _, d in runs)}", file=sys.stderr)

    comments = fake_github.comments("octo/proj", 7)
    assert len(comments) == 1, [c["body"][:80] for c in comments]
    body = comments[0]["body"]
    head = sample.sha("pr")
    assert head[:7] in body and sample.sha()[:7] not in body    # the PR head, not the merge commit

    # First run: the numbers of coverage.py and diff-cover on the same code.
    proc1, run1, _ = runs[0]
    out1 = read_github_output(run1 / "output")
    assert out1["coverage"] == f"{expected['percent_covered']:.2f}"
    assert out1["diff-coverage"] == f"{dc['total_percent_covered']:.2f}"
    assert out1["verdict"] in ("passed", "failed")

    # Second run: `unused` is now tested, so the one comment shows the higher figures.
    proc2, run2, _ = runs[1]
    report2 = json.loads((sample.path / ".covbot" / "report.json").read_text(encoding="utf-8"))
    out2 = read_github_output(run2 / "output")
    assert report2["head"]["sha"] == head
    assert float(out2["diff-coverage"]) > float(out1["diff-coverage"])
    assert f"{report2['totals']['percent_covered']:.2f}%" in body
    assert report2["base_totals"] is not None and out2["delta"] != ""
    assert "covbot" in (run2 / "summary.md").read_text(encoding="utf-8").lower()

    statuses = fake_github.state()["repos"]["octo/proj"]["statuses"].get(head, [])
    assert statuses, "a commit status on the PR head"
    assert statuses[-1]["state"] == ("success" if out2["verdict"] == "passed" else "failure")
    assert proc2.returncode == (0 if out2["verdict"] == "passed" else 1)


TEST_UNUSED = """

    from calc.ops import unused


    def test_unused():
        assert unused(2) == 5
"""


def test_python_version_that_cannot_be_installed_is_one_clear_error(image: str, sample: Repo,
                                                                     tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    env = runner_env(sample, run_dir, {"python-version": "3.99", "baseline": "none"},
                     event_name="push", event={"ref": "refs/heads/pr", "after": sample.sha()})
    proc = run_action(image, sample, run_dir, env, timeout=300)
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "python-version 3.99" in proc.stderr
    assert "coverage-files" in proc.stderr                       # the report-only way out
    assert "Traceback" not in proc.stderr + proc.stdout

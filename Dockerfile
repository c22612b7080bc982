# covbot's container action image.
#
# The base is an official slim Python, pinned by digest. Its Python is 3.13 on purpose:
# the action runs the project's whole test suite under coverage.py on every push, and
# coverage.py's C tracer costs least there: a sample suite under branch coverage took
# 9.4 s on 3.13 against 11.7 s on 3.11, 2.0x its plain run against 4.6x
# (tests/support/image/tracer_overhead.py; sys.monitoring only measures branches from
# 3.14, and covbot measures branches). Projects that
# need another Python set the action's `python-version` input (installed at run time with
# uv's managed Pythons) or run their tests in earlier steps and use report-only mode.
#
# BASE can be any Debian-like image with python3 (with venv) on PATH: the image's test
# builds it on a local Debian base, where python3 comes from apt.
ARG BASE=python:3.13.5-slim-bookworm@sha256:4c2cf9917bd1cbacc5e9b07320025bdb7cdf2df7b0ceaccb55e9dd7e30987419

FROM ${BASE} AS build
# UV_COMPILE_BYTECODE: uv does not write .pyc files by default, and every action run
# starts a fresh container, so each run would compile covbot, PyGithub and the rest
# again (0.46 s of its start-up, measured in the image).
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    UV_COMPILE_BYTECODE=1
COPY pyproject.toml /src/
# One virtual environment for covbot, uv and the project's test dependencies. covbot's
# dependencies get their own layer (read from pyproject.toml), so a change to covbot's
# source reinstalls only covbot. Building here keeps pip's build files and the source
# tree out of the final image.
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/python -m pip install uv==0.13.9 \
    && /opt/venv/bin/python -c 'import tomllib; print("\n".join(tomllib.load(open("/src/pyproject.toml", "rb"))["project"]["dependencies"]))' >/tmp/requirements.txt \
    && /opt/venv/bin/uv pip install --python /opt/venv/bin/python -r /tmp/requirements.txt
COPY README.md /src/
COPY bot /src/bot
# setuptools and pkg_resources (9 MB) come with the venv of a Python before 3.12 and are
# needed by nothing covbot runs: pip builds a project in an isolated environment of its own.
RUN /opt/venv/bin/uv pip install --python /opt/venv/bin/python --no-deps --no-cache /src \
    && /opt/venv/bin/uv pip uninstall --python /opt/venv/bin/python setuptools

FROM ${BASE}
# git: covbot reads the diff and rebuilds the base in a worktree. The workspace is
# mounted from the runner and owned by another user, hence safe.directory '*'.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
    && git config --system --add safe.directory '*'
COPY --from=build /opt/venv /opt/venv
COPY entrypoint.sh /opt/covbot/entrypoint.sh
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
# GitHub runs container actions as root with the workspace as working directory: no USER,
# no WORKDIR.
ENTRYPOINT ["/opt/covbot/entrypoint.sh"]

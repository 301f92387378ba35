"""`python -m bench.web_load`: what loading the web chat costs, written into docs/benchmarks.md.

Starts the backend the way `make run` does (uvicorn, an SQLite database of its own in a temporary
folder, DEBUG off so it serves as in production) on a free port in front of the web build
(mobile/dist, built first when missing), then drives Debian's Chromium with
`mobile/scripts/web-load.mjs`: the login page cold (a fresh profile) and warm (a second visit,
from the cache), the median of `--runs` visits, and every bundle as the server sends it.

    python -m bench.web_load             # 5 cold and 5 warm visits, then docs/benchmarks.md
    python -m bench.web_load --runs 9
    python -m bench.web_load --dist /tmp/old-dist --label "one bundle"   # another build, for comparison
    python -m bench.web_load --report-only   # rewrite the section from docs/benchmarks/web_load.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import processes

REPO = processes.REPO_ROOT
MOBILE = REPO / "mobile"
RESULTS = REPO / "docs" / "benchmarks" / "web_load.json"
REPORT = REPO / "docs" / "benchmarks.md"
START, END = "<!-- web-load:start -->", "<!-- web-load:end -->"


def _kib(n: float) -> str:
    return f"{n / 1024:,.0f} KiB" if n >= 10 * 1024 else f"{n / 1024:,.1f} KiB"


def measure(runs: int, log_dir: Path, dist: Path = MOBILE / "dist") -> dict[str, Any]:
    if dist == MOBILE / "dist" and not (dist / "index.html").exists():
        subprocess.run([str(REPO / "scripts" / "build_web.sh")], check=True)
    port = processes.free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = processes.base_env()
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{log_dir / 'web-load.sqlite3'}",
        WHALE_VAR_DIR=str(log_dir),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        WEB_BUILD_DIR=str(dist),
    )
    log_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [processes.PYTHON, "manage.py", "migrate", "--no-input"],
        cwd=REPO / "backend",
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    server = processes.start(
        "asgi",
        [str(processes.VENV_BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=REPO / "backend",
        log_dir=log_dir,
    )
    with processes.running([server]):
        processes.wait_until(lambda: processes.http_ok(f"{base_url}/login"), processes=[server], what="the backend")
        out = subprocess.run(
            ["node", "scripts/web-load.mjs", base_url, str(runs)],
            cwd=MOBILE,
            env={**env, "WEB_BUILD_DIR": str(dist)},
            check=True,
            capture_output=True,
            text=True,
        )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return result


def report(result: dict[str, Any]) -> str:
    by_size = sorted(result["bundles"], key=lambda b: -b["bytes"])
    first = [b for b in by_size if b["firstScreen"]]
    lazy = [b for b in by_size if not b["firstScreen"]]
    lines = [
        START,
        "## Web chat: bytes on the wire and load time",
        "",
        f"`python -m bench.web_load` ({result['runs']} visits each, median; {result['measured_at']}): the backend",
        "serves the web build (brotli, hashed files `immutable`, the page itself `no-cache`) on this",
        "machine, and Debian's Chromium opens the login page, the first screen a visitor sees, ready when",
        "its button is. Cold is a fresh profile; warm a second visit with the cache of the first. Bytes",
        "are what came over the network (compressed, with headers).",
        "",
        "| build | visit | bytes on the wire | requests (over the network) | first screen ready | load event |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, run in [("this build", result), *[(c["label"], c) for c in result.get("compare", [])]]:
        for visit in ("cold", "warm"):
            v = run[visit]
            lines.append(
                f"| {label} | {visit} | {_kib(v['bytes'])} | {v['requests']:.0f} ({v['transferred']:.0f}) "
                f"| {v['readyMs']:.0f} ms | {v['loadMs']:.0f} ms |"
            )
    lines += [
        "",
        "First screen ready: from the start of the navigation to the Log in button on screen (the bundles",
        "parsed and run, the session check answered). The load event comes earlier: the app renders after it.",
        "",
        f"The page (`{result['page']}`) is sent with `Cache-Control: {result['indexCacheControl']}`. Its bundles:",
        "",
        "| bundle | loaded | size | sent | encoding | Cache-Control |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for bundle in first + lazy:
        when = "first screen" if bundle["firstScreen"] else "on demand"
        lines.append(
            f"| `{bundle['name']}` | {when} | {_kib(bundle['bytes'])} | {_kib(bundle['wireBytes'])} "
            f"| {bundle['encoding']} | `{bundle['cacheControl']}` |"
        )
    total_first = sum(b["wireBytes"] for b in first)
    total_all = sum(b["bytes"] for b in result["bundles"])
    lines += [
        "",
        f"The first screen needs {_kib(total_first)} of JavaScript on the wire. Before this issue the build was one",
        "1.55 MB file served uncompressed without cache headers, so every visit downloaded all of it;",
        f"now the whole build is {_kib(total_all)} before compression (it gained TeX and highlighting), and",
        "the answer renderer (markdown), KaTeX and the Prism highlighter load only when an answer needs them.",
    ]
    if result.get("compare"):
        lines += [
            "",
            "The other rows are other builds measured in the same run (`--dist`, `--label`): the build before",
            "this split, and this one with expo-router's async routes on the web as well (each route its own",
            "bundle). Async routes saved no bytes on the first screen and cost a chain of requests before it",
            "showed, so they stay off. On this shared 2-core machine the times move by a few hundred",
            "milliseconds from run to run; the bytes do not.",
        ]
    lines.append(END)
    return "\n".join(lines)


def write_report(result: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    text = REPORT.read_text()
    section = report(result)
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        # Before "Machine and versions", leaving the other sections' numbers as they are.
        marker = "## Machine and versions"
        text = text.replace(marker, section + "\n\n" + marker, 1) if marker in text else text + "\n" + section + "\n"
    REPORT.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dist", type=Path, action="append", default=[], help="another web build to compare")
    parser.add_argument("--label", action="append", default=[], help="its name in the table")
    parser.add_argument("--report-only", action="store_true", help=f"rewrite the section from {RESULTS.name}")
    args = parser.parse_args()
    if args.report_only:
        write_report(json.loads(RESULTS.read_text()))
        return
    with tempfile.TemporaryDirectory(prefix="whale-web-load-") as tmp:
        result = measure(args.runs, Path(tmp) / "this")
        result["compare"] = []
        for index, dist in enumerate(args.dist):
            other = measure(args.runs, Path(tmp) / f"compare-{index}", dist=dist.resolve())
            other["label"] = args.label[index] if index < len(args.label) else dist.name
            result["compare"].append(other)
    write_report(result)
    print(report(result))


if __name__ == "__main__":
    main()

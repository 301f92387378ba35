"""`python -m bench.files`: extraction time and peak memory of the files worker's reader, into docs/benchmarks.md.

    python -m bench.files                # a 100-page text PDF and a 10 MB photo of text, 3 runs each
    python -m bench.files --report-only  # rewrite the section from docs/benchmarks/files.json

Each run is one bounded child process (files.runner), exactly as the files worker starts it; peak
memory is that process's (or its Tesseract child's) high-water resident set. Targets: 100 pages in
10 s or less, 512 MiB or less.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "backend"))

from files import runner  # noqa: E402
from files.extractor import Options  # noqa: E402
from files.tests import samples  # noqa: E402

RESULTS = REPO / "docs" / "benchmarks" / "files.json"
REPORT = REPO / "docs" / "benchmarks.md"
START, END = "<!-- files:start -->", "<!-- files:end -->"
TARGET_SECONDS, TARGET_MIB = 10.0, 512
MIB = 1024 * 1024
PARAGRAPH = (
    "Page {page}, line {line}: the quarterly report describes rainfall, sea temperature and the growth of "
    "plants near the coast, with figures for each month and a short note on method."
)


def hundred_page_pdf() -> bytes:
    return samples.text_pdf(["\n".join(PARAGRAPH.format(page=p, line=n) for n in range(12)) for p in range(1, 101)])


def ten_mb_photo() -> bytes:
    """A photo-sized PNG of printed English and Chinese text with sensor noise (about 10 MB)."""
    from PIL import Image, ImageChops

    lines = ["Invoice 4521: total due 1,250.00 by 30 June", "发票号码四五二一 合计金额一千二百五十元"] * 20
    page = Image.open(io.BytesIO(samples.text_image(lines, width=3500, font_size=60))).convert("L")
    noise = Image.effect_noise(page.size, 40).point(lambda value: value // 4)
    photo = ImageChops.subtract(page, noise)
    out = io.BytesIO()
    photo.save(out, format="PNG")
    return out.getvalue()


def measure(name: str, kind: str, mime: str, data: bytes, runs: int) -> dict[str, Any]:
    limits = runner.Limits(seconds=300, memory_bytes=1536 * MIB)
    seconds, peaks, outcome = [], [], None
    with tempfile.TemporaryDirectory(prefix="whale-bench-files-") as tmp:
        path = Path(tmp) / "input"
        path.write_bytes(data)
        for _ in range(runs):
            result = runner.run(path=path, kind=kind, mime=mime, options=Options(), limits=limits)
            outcome = result.outcome
            seconds.append(result.seconds)
            peaks.append(result.peak_rss_bytes / MIB)
    assert outcome is not None
    return {
        "name": name,
        "bytes": len(data),
        "status": outcome.status,
        "reason": outcome.reason,
        "pages": outcome.pages,
        "chars": outcome.chars,
        "seconds_median": statistics.median(seconds),
        "seconds_max": max(seconds),
        "peak_mib_max": max(peaks),
    }


def report(result: dict[str, Any]) -> str:
    lines = [
        START,
        "## Files: extraction time and memory",
        "",
        f"`python -m bench.files` ({result['runs']} runs each; {result['measured_at']}; {result['machine']}): one bounded "
        "child process per file, as the files worker runs it. Targets: 10 s or less for 100 pages, peak memory "
        f"{TARGET_MIB} MiB or less.",
        "",
        "| file | size | read | median | slowest | peak memory | target met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case in result["cases"]:
        met = case["seconds_max"] <= TARGET_SECONDS and case["peak_mib_max"] <= TARGET_MIB
        read = f"{case['status']}, {case['chars']:,} chars" + (f", {case['pages']} pages" if case["pages"] else "")
        lines.append(
            f"| {case['name']} | {case['bytes'] / MIB:.1f} MiB | {read} | {case['seconds_median']:.2f} s "
            f"| {case['seconds_max']:.2f} s | {case['peak_mib_max']:.0f} MiB | {'yes' if met else 'NO'} |"
        )
    lines += [
        "",
        "The photo is OCR'd with `eng+chi_sim`, scaled to at most 4000 px on its longest side first. A scanned PDF "
        "costs about one photo per page, which is why WHALE_FILES_OCR_MAX_PAGES bounds the pages read by OCR.",
        END,
    ]
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
        marker = "## Machine and versions"
        text = text.replace(marker, section + "\n\n" + marker, 1) if marker in text else text + "\n" + section + "\n"
    REPORT.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if args.report_only:
        write_report(json.loads(RESULTS.read_text()))
        return
    cases = [
        measure("100-page text PDF", "pdf", "application/pdf", hundred_page_pdf(), args.runs),
        measure("10 MB photo of text (PNG)", "image", "image/png", ten_mb_photo(), args.runs),
    ]
    result = {
        "runs": args.runs,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores",
        "cases": cases,
    }
    write_report(result)
    print(report(result))


if __name__ == "__main__":
    main()

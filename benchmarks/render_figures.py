"""Rewrite the `<!-- figures:begin -->…<!-- figures:end -->` block of
docs/BENCHMARKS.md from the JSON under benchmarks/results/ (run_all calls it).

    .venv/bin/python benchmarks/render_figures.py [RESULTS_DIR]

Only figures the benchmarks wrote are shown; a benchmark with no result file is
listed as not run. Nothing here is typed in by hand.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


def load(results: Path, name: str) -> dict | None:
    path = results / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def span(figure: dict, digits: int = 0, unit: str = "") -> str:
    f = f"{{:,.{digits}f}}"
    return (
        f"{f.format(figure['median'])}{unit} "
        f"[{f.format(figure['min'])}, {f.format(figure['max'])}]"
    )


def serving_lines(data: dict) -> list[str]:
    s, settings = data["summary"], data["settings"]
    lines = [
        f"### Serving as deployed (`bench_serving`, {data['date']})",
        "",
        f"gunicorn {settings['gunicorn_workers']} workers, access log "
        f"{settings['access_log']}, {settings['database']}, {settings['cache']} cache, "
        f"throttle {settings['throttle_anon']}; {settings['rounds']} interleaved "
        f"rounds × {settings['seconds']} s per endpoint, wrk {settings['connections']} "
        f"connections. Median [min, max] of the rounds; load average "
        f"{span(s['load_average'], 2)} on {data['machine']['cpus']} CPUs.",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | failures (non-2xx, 429, socket) |",
        "|---|---|---|---|---|",
    ]
    for name in ("floor", "healthz", "recommendations"):
        e = s[name]
        lines.append(
            f"| `GET {e['path']}` | {span(e['requests_per_second'])} | "
            f"{span(e['p50_ms'], 2)} | {span(e['p99_ms'], 1)} | "
            f"{e['failures']} of {e['requests']:,} |"
        )
    lines += ["", "| ratio (per round, slower by) | median [min, max] | target |",
              "|---|---|---|"]  # fmt: skip
    for name, limit in (("recommendations/floor", 1.5), ("recommendations/healthz", 2)):
        r = s["ratios"][name]
        verdict = "met" if r["median"] <= limit else "NOT met"
        lines.append(f"| {name} | {span(r, 2, '×')} | ≤ {limit}× ({verdict}) |")
    m = data["metrics_scrape_ms"]
    lines += [
        "",
        f"One `/metrics` scrape (2 workers): {span(m, 1, ' ms')} (target < 25 ms).",
    ]
    recycles = data.get("metrics_after_recycles")
    if recycles:
        lines.append(
            f"After {recycles['recycles']} worker recycles (simulated: copies of a "
            f"real worker's files), collecting a scrape takes "
            f"{span(recycles['scrape_ms'], 1, ' ms')} over {recycles['db_files']} .db "
            f"files with the archive step, "
            f"{span(recycles['without_archive']['scrape_ms'], 1, ' ms')} over "
            f"{recycles['without_archive']['db_files']} files without it."
        )
    real = data.get("metrics_after_real_recycles")
    if real:
        lines.append(
            f"After {real['recycles']} real worker recycles "
            f"(`GUNICORN_MAX_REQUESTS={real['max_requests']}`, {real['requests']:,} "
            f"recommendations asked one at a time in {real['seconds']:.0f} s, "
            f"{real['failures']} failed): one scrape "
            f"{span(real['scrape_ms'], 1, ' ms')} (target < 25 ms), "
            f"{real['db_files']} .db files; the recommendations' request count in "
            f"`/metrics` {real['requests_counted']:,.0f} of {real['requests']:,} "
            f"({'kept' if real['counts_kept'] else 'NOT kept'} across the recycles)."
        )
    retrain = data.get("during_retrain")
    if retrain:
        run, poller = retrain["retrain"], retrain["poller"]
        lines += [
            "",
            f"During a forced retrain in the Q2 cluster ({run['status']}, "
            f"{run['duration_seconds'] or 0:.1f} s), recommendations in "
            f"{retrain['slice_seconds']} s wrk slices:",
            "",
            "| slices | n | req/s | p50 ms | p99 ms | failures |",
            "|---|---|---|---|---|---|",
        ]
        for name in ("around", "during"):
            part = retrain[name]
            if part:
                lines.append(
                    f"| {name} the retrain | {part['slices']} | "
                    f"{span(part['requests_per_second'])} | {span(part['p50_ms'], 1)} "
                    f"| {span(part['p99_ms'], 1)} | {part['failures']} of "
                    f"{part['requests']:,} |"
                )
        lines += [
            "",
            f"Served versions (polled every 0.2 s): "
            f"{' → '.join(f'`{v}`' for v in poller['versions_in_order'])}; "
            f"{poller['failed']} failed of {poller['answers']} polled; "
            + (
                "switched without error."
                if retrain["switched_without_error"]
                else "did NOT switch without error."
            ),
        ]
    return lines


def anchor_lines(data: dict) -> list[str]:
    a = data["anchors"]
    o, g, u = a["original_multioutput"], a["fully_grown"], a["ours"]
    lines = [
        f"### Anchors (`bench_anchors`, {data['date']}, {a['draws']} draws)",
        "",
        "Every model also timed through scikit-learn's `predict_proba`, so the "
        "comparison is of models, not code paths.",
        "",
        "| model | fit s | predict_proba, one row, ms | our tree-summing, ms |",
        "|---|---|---|---|",
        f"| original: MultiOutputClassifier(45 × RF(100)) | {span(o['fit_s'], 2)} | "
        f"{span(o['predict_proba_ms'], 2)} | – |",
        f"| fully grown RF(100), min_samples_leaf=1 | {span(g['fit_s'], 2)} | "
        f"{span(g['predict_proba_ms'], 2)} | {span(g['tree_sum_ms'], 3)} |",
        f"| ours (min_samples_leaf=50) | {span(u['fit_s'], 2)} | "
        f"{span(u['predict_proba_ms'], 2)} | {span(u['tree_sum_ms'], 3)} |",
        "",
    ]
    return lines


def growth_lines(data: dict) -> list[str]:
    w, u, c = data["windowed"], data["unwindowed"], data["comparison"]
    lines = [
        f"### Growth (`bench_growth`, {data['date']}, {data['synthetic_draws']:,} "
        "synthetic uniform draws, deployed params)",
        "",
        f"The retrain through the training service (`model_version_train()`, "
        f"{data['service']['draws']:,} stored draws, training_window "
        f"{data['params']['training_window']:,}): {data['service']['retrain_seconds']} s "
        f"(target < 30 s), model {data['service']['model_mb']} MB (target < 20 MB). "
        f"The validation fit alone: windowed {w['validation_fit_seconds']} s, "
        f"{w['model_mb']} MB, {w['rows_fitted']:,} rows; unwindowed "
        f"{u['validation_fit_seconds']} s, {u['model_mb']} MB, {u['rows_fitted']:,} rows. "
        f"Load average {data['load_average_at_start'][0]:.2f} → "
        f"{data['load_average_at_end'][0]:.2f}.",
        "",
        "| last 200 draws | Brier (chance value of these forecasts) | verdict "
        "| any-hit (chance) | verdict |",
        "|---|---|---|---|---|",
    ]
    for name, side in (("windowed", w), ("unwindowed", u)):
        b, h = side["quality"]["brier"], side["quality"]["any_hit"]
        lines.append(
            f"| {name} | {b['value']:.5f} ({b['chance_value']:.5f}) | {b['verdict']} "
            f"| {h['value']:.3f} ({h['baseline']:.3f}) | {h['verdict']} |"
        )
    low, high = c["brier_difference_interval"]
    lines += [
        "",
        f"Windowed − unwindowed on the same draws: Brier {c['brier_difference']:+.5f} "
        f"[{low:+.5f}, {high:+.5f}] (95 % bootstrap); a hit by only one side on "
        f"{c['any_hit_only_windowed']} draws (windowed) and "
        f"{c['any_hit_only_unwindowed']} (unwindowed), sign test p = "
        f"{c['any_hit_sign_test_p']:.2f}. Windowed "
        + ("significantly worse." if c["windowed_worse"] else "not worse."),
    ]
    return lines


def consumer_lines(data: dict) -> list[str]:
    settings = data["settings"]
    lines = [
        f"### Consumer API as deployed (`bench_consumer_api`, {data['date']})",
        "",
        f"gunicorn {settings['gunicorn_workers']} workers, access log "
        f"{settings['access_log']}, {settings['database']}, {settings['cache']} cache, "
        f"throttle {settings['throttle_anon']}; {settings['rounds']} interleaved rounds "
        f"× {settings['seconds']} s per case, wrk {settings['connections']} connections "
        "(one per worker: latency without queueing). p50 median [min, max] of the "
        "rounds; the ratio is taken within each round.",
        "",
        "| case | p50 ms | × floor | p99 ms | failures | load average |",
        "|---|---|---|---|---|---|",
    ]
    for phase in ("shipped", "grown"):
        summary = data[phase]["summary"]
        load = span(summary["load_average"], 2)
        for name, e in summary.items():
            if name == "load_average":
                continue
            ratio = e.get("ratio_to_floor")
            lines.append(
                f"| {e['what']} | {span(e['p50_ms'], 2)} | "
                f"{span(ratio, 2, '×') if ratio else ''} | {span(e['p99_ms'], 1)} | "
                f"{e['failures']} of {e['requests']:,} | {load} |"
            )
    t = data["targets"]
    lines += [
        "",
        "Targets: ticket ≤ 2× floor "
        + ("met" if t["ticket_ratio"] else "NOT met")
        + "; warm `page_size=100` ≤ 2× floor "
        + ("met" if t["warm_page_ratio"] else "NOT met")
        + f"; every page of {settings['synthetic_draws']:,} draws p50 < 10 ms "
        + ("met" if t["page_p50_ms"] else "NOT met")
        + ".",
    ]
    return lines


def scaleout_lines(data: dict) -> list[str]:
    """bench_scaleout: two hosts vs one, cold start from S3, retrain to served."""
    t, c, r = data["throughput"], data["cold_start"], data["retrain_to_served"]

    def cell(figure: dict, digits: int = 1) -> str:
        return (
            f"{figure['median']:.{digits}f} [{figure['min']:.{digits}f}, "
            f"{figure['max']:.{digits}f}] (n {figure['n']})"
        )

    return [
        f"### Scale-out (`bench_scaleout`, {data.get('when', '?')})",
        "",
        "Two web hosts of one gunicorn worker each vs one host of two, each host "
        "with its own empty disk, on PostgreSQL, Redis and moto's S3 server; "
        f"interleaved rounds. Load average at the rounds' start {cell(t['load_average_per_round'], 2)}.",
        "",
        "| figure | median [min, max] |",
        "|---|---|",
        f"| req/s, two hosts × 1 worker (summed) | {cell(t['two_hosts_of_one_worker_rps'])} |",
        f"| req/s, one host × 2 workers | {cell(t['one_host_of_two_workers_rps'])} |",
        f"| ratio two hosts / one host | {t['ratio_two_hosts_to_one']} |",
        f"| cold-start model load from S3, ms ({c['model_bytes']:,} bytes) | {cell(c['cold_load_ms'], 0)} |",
        f"| of which download + sha256, ms | {cell(c['download_and_sha256_ms'], 0)} |",
        f"| load from the host's read cache, ms | {cell(c['cached_load_ms'], 0)} |",
        f"| finished retrain → both hosts serve it, s | {cell(r['seconds_from_run_finished'], 2)} |",
        f"| activation → both hosts serve it, s | {cell(r['seconds_from_activation'], 2)} |",
        "",
        f"Failed requests {t['errors']}, failed polls {r['failed_polls']}; model "
        f"downloads per host by context: {r.get('model_downloads', '?')}.",
    ]


def printed_lines(name: str, data: dict) -> list[str]:
    run = data.get("run", data)
    lines = [
        f"### `{name}` ({run.get('date', '?')}, exit {run.get('exit_code', '?')}, "
        f"{run.get('seconds', '?')} s, load {run['load_average_at_start'][0]:.2f} → "
        f"{run['load_average_at_end'][0]:.2f})",
        "",
        f"`{run.get('command', '')}`",
    ]
    if "stdout" in data:
        lines += ["", "```", data["stdout"].rstrip(), "```"]
    return lines


def render(results: Path, doc: Path = DOC) -> Path:
    from benchmarks.run_all import BENCHMARKS

    quick = results.name == "quick"
    body = [BEGIN, ""]
    if quick:
        body += ["**Quick (smoke) run: not figures to quote.**", ""]
    seconds = {
        name: data.get("run", data).get("seconds")
        for name in BENCHMARKS
        if (data := load(results, name)) is not None
    }
    seconds = {n: v for n, v in seconds.items() if isinstance(v, int | float)}
    if seconds:
        body += [
            f"Run time: {sum(seconds.values()) / 60:.1f} min for the "
            f"{len(seconds)} of {len(BENCHMARKS)} benchmarks run by run_all ("
            + ", ".join(f"`{n}` {v:.0f} s" for n, v in seconds.items())
            + ").",
            "",
        ]
    for name in BENCHMARKS:
        data = load(results, name)
        if data is None:
            body += [f"### `{name}`: not run", ""]
            continue
        if name == "bench_serving" and "summary" in data:
            body += serving_lines(data) + [""]
        elif name == "bench_anchors" and "anchors" in data:
            body += anchor_lines(data) + [""]
        elif name == "bench_scaleout" and "throughput" in data:
            body += scaleout_lines(data) + [""]
        elif name == "bench_growth" and "comparison" in data:
            body += growth_lines(data) + [""]
        elif name == "bench_consumer_api" and "targets" in data:
            body += consumer_lines(data) + [""]
        if "stdout" in data or "run" in data:
            body += printed_lines(name, data)
        else:
            body += [
                f"### `{name}`: `benchmarks/results/{name}.json` is from an earlier "
                f"run, not from run_all ({data.get('date', 'undated')})"
            ]
        body.append("")
    body.append(END)
    text = doc.read_text() if doc.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    # The markers on lines of their own (the prose above may quote them).
    pattern = re.compile(
        "^" + re.escape(BEGIN) + "$.*?^" + re.escape(END) + "$",
        re.DOTALL | re.MULTILINE,
    )
    doc.write_text(pattern.sub(lambda _: "\n".join(body), text))
    return doc


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    render(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "benchmarks" / "results")

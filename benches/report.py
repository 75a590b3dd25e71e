#!/usr/bin/env python3
"""Summarise criterion's results (target/criterion) as the tables of BENCHMARKS.md.

Usage: python3 benches/report.py [target/criterion [more runs ...]] > /tmp/results.md
Reads every <group>/<bench>/new/{benchmark.json,estimates.json} and prints
medians and the ratios the project's targets are stated in, for the first
directory; the target ratios come from its paired.json (written by
`cargo bench --bench paired`) when there is one. Given copies of more runs' target/criterion directories, it also
prints the key ratios of every run side by side (to show run-to-run noise).
"""
import json
import pathlib
import sys

roots = [pathlib.Path(p) for p in sys.argv[1:]] or [pathlib.Path("target/criterion")]


def load(root):
    """Median nanoseconds of every bench under one criterion directory."""
    medians = {}
    for est in root.glob("**/new/estimates.json"):
        meta = json.loads((est.parent / "benchmark.json").read_text())
        ns = json.loads(est.read_text())["median"]["point_estimate"]
        medians[(meta["group_id"], meta["function_id"])] = ns
    return medians


runs = [load(root) for root in roots]
median = runs[0]


def fmt(ns):
    if ns is None:
        return "—"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def get(group, bench, medians=None):
    return (median if medians is None else medians).get((group, bench))


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def verdict(value, ok):
    if value is None:
        return "—"
    return f"{value:.2f}× {'✅' if ok(value) else '❌'}"


engines = ["rhai", "lua", "js", "extism", "extism_stateful", "wasi"]
raw_of = {
    "rhai": "raw", "lua": "raw", "js": "raw", "wasi": "raw",
    "extism": ("extism", "raw_fresh_instance"),
    "extism_stateful": ("extism", "raw_reused_instance"),
}

def raw_ns(engine, medians=None):
    """The raw-API baseline an engine's run-many eval is compared with."""
    raw = raw_of[engine]
    if isinstance(raw, tuple):
        return get(f"eval/{raw[0]}", raw[1], medians)
    return get(f"eval/{engine}", raw, medians)


print("| engine | single execution | run many | limits off | raw engine API | compile | new instance | pooled instance | 1 thread | 2 threads |")
print("|---|---|---|---|---|---|---|---|---|---|")
for e in engines:
    g = f"eval/{e}"
    print(f"| {e} | {fmt(get(g, 'single_execution'))} | {fmt(get(g, 'run_many'))} | "
          f"{fmt(get(g, 'limits_off'))} | {fmt(raw_ns(e))} | {fmt(get('compile', e))} | "
          f"{fmt(get('instantiate', e))} | {fmt(get('acquire', e))} | {fmt(get(f'parallel/{e}', '1_threads'))} | "
          f"{fmt(get(f'parallel/{e}', '2_threads'))} |")

print()
paired_path = roots[0] / "paired.json"
paired = {}
if paired_path.exists():
    for item in json.loads(paired_path.read_text())["summary"]:
        paired[(item["engine"], item["what"])] = item


def paired_cell(engine, what, ok):
    """A paired ratio (median over the processes) with its verdict and the processes' range."""
    item = paired.get((engine, what))
    if item is None:
        return "—"
    spread = f" ({item['ratio_min']:.2f}–{item['ratio_max']:.2f})" if len(item["ratios"]) > 1 else ""
    return verdict(item["ratio"], ok) + spread


if paired:
    print("Targets, from the paired measurement (`cargo bench --bench paired`): the median over "
          "the processes, their range in brackets; compile-once from the criterion medians.")
    print()
    print("| engine | run-many ÷ raw (≤ 1.10) | compile-once speedup (≥ 5) | 2-thread ÷ 1-thread throughput (≥ 1.8) | raw API 2-thread ÷ 1-thread | limits on ÷ off (≤ 1.15) |")
    print("|---|---|---|---|---|---|")
    for e in engines:
        g = f"eval/{e}"
        raw_scaling = paired.get((e, "raw_two_thread_scaling"))
        print(f"| {e} | {paired_cell(e, 'run_many_over_raw', lambda r: r <= 1.10)} | "
              f"{verdict(ratio(get(g, 'single_execution'), get(g, 'run_many')), lambda r: r >= 5)} | "
              f"{paired_cell(e, 'two_thread_scaling', lambda r: r >= 1.8)} | "
              f"{'—' if raw_scaling is None else format(raw_scaling['ratio'], '.2f') + '×'} | "
              f"{paired_cell(e, 'limits_on_over_off', lambda r: r <= 1.15)} |")
    script = paired.get(("js", "run_many_over_raw_script"))
    if script is not None:
        print()
        print(f"JS against boa re-running the same script rather than calling a function (paired): {script['ratio']:.2f}×.")
    print()
    print("The same ratios from the criterion medians (measured seconds apart, for reference):")
    print()

print("| engine | run-many ÷ raw (≤ 1.10) | compile-once speedup (≥ 5) | 2-thread ÷ 1-thread throughput (≥ 1.8) | limits on ÷ off (≤ 1.15) |")
print("|---|---|---|---|---|")
for e in engines:
    g = f"eval/{e}"
    run_many = get(g, "run_many")
    print(f"| {e} | {verdict(ratio(run_many, raw_ns(e)), lambda r: r <= 1.10)} | "
          f"{verdict(ratio(get(g, 'single_execution'), run_many), lambda r: r >= 5)} | "
          f"{verdict(ratio(get(f'parallel/{e}', '1_threads'), get(f'parallel/{e}', '2_threads')), lambda r: r >= 1.8)} | "
          f"{verdict(ratio(run_many, get(g, 'limits_off')), lambda r: r <= 1.15)} |")

print()
print("| engine | polyscript 1 thread | polyscript 2 threads | polyscript scaling | raw API 1 thread | raw API 2 threads | raw API scaling |")
print("|---|---|---|---|---|---|---|")
for e in engines:
    g = f"parallel/{e}"
    one, two = get(g, "1_threads"), get(g, "2_threads")
    raw_one, raw_two = get(g, "raw_1_threads"), get(g, "raw_2_threads")
    scaling = ratio(one, two)
    raw_scaling = ratio(raw_one, raw_two)
    print(f"| {e} | {fmt(one)} | {fmt(two)} | {'—' if scaling is None else f'{scaling:.2f}×'} | "
          f"{fmt(raw_one)} | {fmt(raw_two)} | {'—' if raw_scaling is None else f'{raw_scaling:.2f}×'} |")

print()
overhead = get("eval/overhead", None)
script = get("eval/js", "raw_script")
js_run = get("eval/js", "run_many")
print(f"polyscript's own fixed cost per eval (`eval/overhead`, an engine that does nothing): {fmt(overhead)}.")
print(f"JS against boa re-running the same script (`eval/js/raw_script`, {fmt(script)}) rather than calling a function: "
      f"{'—' if ratio(js_run, script) is None else f'{ratio(js_run, script):.2f}×'}.")

print()
print("| providers | static | context | composite |")
print("|---|---|---|---|")
for e in ["lua", "rhai"]:
    g = f"providers/{e}"
    print(f"| {e} | {fmt(get(g, 'static'))} | {fmt(get(g, 'context'))} | {fmt(get(g, 'composite'))} |")

print()
print("| map-reduce, 10 000 strings | 1 worker | 2 workers | speedup |")
print("|---|---|---|---|")
for engine in ["lua", "wasm"]:
    g = f"coordinate/map_reduce_10k_{engine}"
    one, two = get(g, "1_workers"), get(g, "2_workers")
    print(f"| vowel count, {engine} | {fmt(one)} | {fmt(two)} | {verdict(ratio(one, two), lambda r: r > 1.0)} |")

if len(runs) > 1:
    def r(value):
        return "—" if value is None else f"{value:.2f}"

    print()
    print("| engine | " + " | ".join(
        f"{what}, run {i + 1}" for what in ["run-many ÷ raw", "2-thread scaling", "raw API scaling"]
        for i in range(len(runs))) + " |")
    print("|---|" + "---|" * (3 * len(runs)))
    for e in engines:
        g = f"eval/{e}"
        p = f"parallel/{e}"
        cells = [r(ratio(get(g, "run_many", m), raw_ns(e, m))) for m in runs]
        cells += [r(ratio(get(p, "1_threads", m), get(p, "2_threads", m))) for m in runs]
        cells += [r(ratio(get(p, "raw_1_threads", m), get(p, "raw_2_threads", m))) for m in runs]
        print(f"| {e} | " + " | ".join(cells) + " |")

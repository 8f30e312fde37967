#!/usr/bin/env python3
"""Builds the Markdown block of bench/pii/run.sh from the files the run wrote.

    python3 report.py OUT_DIR META.json

OUT_DIR holds amanah-throughput.json (the throughput example's line),
presidio-run.json (presidio_baseline.py's line), score-amanah.json and
score-presidio.json (score.py --json) and detect-wall.txt (seconds of the
detect_jsonl run). META.json: date, machine, commands and load figures that
the shell script collected. Prints the block (without the markers).
"""
import json
import sys
from pathlib import Path

GOAL_F1 = 0.85
GOAL_LEAK = 0.95
GOAL_CHAR_P = 0.90
GOAL_SPEEDUP = 1000.0
GOAL_MEM_MB = 50.0
MIB = 1.048576  # MB (10^6 bytes) per MiB


def load(p):
    with open(p, encoding="utf-8") as f:
        return json.load(f)


def status(ok):
    return "**met**" if ok else "**not met**"


def main():
    out, meta = Path(sys.argv[1]), load(sys.argv[2])
    am = load(out / "amanah-throughput.json")
    pr = load(out / "presidio-run.json")
    sa, sp = load(out / "score-amanah.json"), load(out / "score-presidio.json")
    detect_wall = float((out / "detect-wall.txt").read_text().strip())

    def quality(s):
        return (s["micro"]["overlap"]["f1"], s["redaction"]["leak_recall"],
                s["redaction"]["char_precision"], s["micro"]["exact"]["f1"],
                s["redaction"]["full_spans"])

    qa, qp = quality(sa), quality(sp)
    # Presidio: wall and CPU time of its timed pass (model load excluded).
    p_mb_s = pr["mb_per_s"]
    p_us = pr["ms_per_sentence"] * 1000
    p_cpu_share = pr["cpu_s"] / pr["wall_s"] if pr["wall_s"] else None
    p_mb_cpu_s = pr["text_mb"] / pr["cpu_s"] if pr["cpu_s"] else None
    p_mem = pr["peak_rss_mb"] * MIB  # ru_maxrss, MiB -> MB
    a_mem, a_engine = am["peak_rss_mb"], am["engine_rss_mb"]
    speedup = am["mb_per_s"] / p_mb_s
    speedup_cpu = (am["mb_per_cpu_s"] / p_mb_cpu_s
                   if am.get("mb_per_cpu_s") and p_mb_cpu_s else None)

    f = lambda x: "–" if x is None else f"{x:.3f}"  # noqa: E731
    rows = [
        "| engine | overlap F1 | leak recall | char precision | µs/text | MB/s (1 core) | texts/s | memory MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| Amanah (`Analyzer::standard`) | **{f(qa[0])}** | **{f(qa[1])}** | {f(qa[2])} | "
        f"{am['us_per_text']:.1f} | {am['mb_per_s']:.3f} | {am['texts_per_s']:.0f} | "
        f"{a_mem:.1f} (engine {a_engine:.1f}) |",
        f"| Presidio {pr['versions']['presidio-analyzer']} + spaCy en_core_web_sm, threshold "
        f"{pr['threshold']} | {f(qp[0])} | {f(qp[1])} | {f(qp[2])} | {p_us:.0f} | "
        f"{p_mb_s:.4f} | {pr['sentences_per_s']:.1f} | {p_mem:.1f} |",
    ]
    leak_ok = qa[1] >= GOAL_LEAK and qa[2] >= GOAL_CHAR_P
    goals = [
        "| goal | measured | status |",
        "|---|---|---|",
        f"| overlap micro-F1 ≥ {GOAL_F1:.2f} | {f(qa[0])} | {status(qa[0] >= GOAL_F1)} |",
        f"| leak recall ≥ {GOAL_LEAK:.2f} at char precision ≥ {GOAL_CHAR_P:.2f} | "
        f"{f(qa[1])} at {f(qa[2])} | {status(leak_ok)} |",
        f"| throughput ≥ {GOAL_SPEEDUP:.0f}× Presidio (1 core, wall) | {speedup:.1f}× | "
        f"{status(speedup >= GOAL_SPEEDUP)} |",
        f"| memory ≤ {GOAL_MEM_MB:.0f} MB (peak RSS of the whole process) | {a_mem:.1f} MB "
        f"(engine alone {a_engine:.1f} MB) | {status(a_mem <= GOAL_MEM_MB)} |",
    ]
    busy = meta["busy_before"]
    noisy = (am.get("cpu_share") or 1) < 0.9 or (p_cpu_share or 1) < 0.9 or busy > 0.5
    lines = [
        "### PII detection: Amanah vs Presidio (dev set)",
        "",
        "Written by `bench/pii/run.sh` (see `bench/pii/README.md`); rerunning it replaces this block.",
        "",
        f"- Date: {meta['date']}; commit `{meta['commit']}` plus the working tree at that time",
        f"- Machine: {meta['cores']} CPUs, {meta['cpu']}, Linux {meta['kernel']}; {meta['rustc']}, "
        f"Python {pr['python']}, spaCy {pr['versions']['spacy']}",
        f"- Data: `{meta['dataset']}`, {am['texts']} texts, {am['bytes'] / 1e6:.3f} MB of UTF-8 text",
        f"- Command: `{meta['command']}`; both engines pinned to core {meta['core']} (`taskset -c {meta['core']}`)",
        f"- Load: {busy:.2f} cores busy just before (load average {meta['loadavg_before']}); "
        f"share of the pinned core the engine got during its timed passes: Amanah "
        f"{f(am.get('cpu_share'))}, Presidio {f(p_cpu_share)}; load average at the end {meta['loadavg_after']}"
        + (". **Noisy: other processes shared the core; the per-CPU-second figures below are steadier.**"
           if noisy else ""),
        "",
        "\n".join(rows),
        "",
        f"- **Speed ratio (Amanah ÷ Presidio throughput, wall): {speedup:.1f}×**"
        + (f"; per CPU second: {speedup_cpu:.1f}× (Amanah {am['mb_per_cpu_s']:.3f} MB/CPU-s, "
           f"Presidio {p_mb_cpu_s:.4f} MB/CPU-s)" if speedup_cpu else ""),
        f"- Amanah: median of {am['passes']} warm passes over all texts "
        f"({am['seconds_min']:.3f}–{am['seconds_max']:.3f} s a pass), `throughput` example; "
        f"building the analyzer {am['load_seconds'] * 1000:.0f} ms, first (cold) pass "
        f"{am['first_pass_seconds']:.2f} s (builds the lazy word lists). The predictions come from "
        f"the `detect_jsonl` example: {detect_wall:.2f} s wall for the whole file (load, JSON and offsets included).",
        f"- Presidio: `presidio_baseline.py --threshold {pr['threshold']}` ({pr['mode']}), one timed "
        f"pass after {pr['warmup_texts']} warm-up texts, model load ({pr['engine_load_s']} s) excluded; "
        f"spaCy alone {pr['spacy_only_s']} s of its {pr['wall_s']} s.",
        "- Memory: MB = 10^6 bytes. Amanah: VmHWM of the `throughput` process (texts in memory "
        "included); \"engine\": VmRSS after the warm-up pass minus before building the analyzer. "
        "Presidio: peak RSS (ru_maxrss) of its process.",
        f"- Exact-match micro-F1: Amanah {f(qa[3])}, Presidio {f(qp[3])}; gold spans fully covered "
        f"(full_spans): Amanah {f(qa[4])}, Presidio {f(qp[4])}. Reference Presidio figures "
        "(`shared/bench/README.md`): F1 0.532, leak recall 0.593, char precision 0.912, ~95 texts/s.",
        "",
        "Goals:",
        "",
        "\n".join(goals),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()

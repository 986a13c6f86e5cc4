# The bench's stand-in for the `pyperf` module (bench/pyperformance.ts puts this file in front of
# a pyperformance benchmark's own run_benchmark.py, unchanged, and runs the whole as __main__).
# pyperf spawns worker processes and cannot run in the sandbox; this gives a benchmark the few
# names it uses (Runner, its argparser and metadata, bench_func, bench_time_func, perf_counter)
# and times it in-process. Each benchmark keeps its own parameters: the options' defaults.
#
# _WASI_PY_BENCH (set by the line before this file) chooses what happens:
#   {"mode": "samples", "samples": N, "min_sample_s": S}: double the loops until one sample takes
#     S seconds, one warm-up sample, then N samples; prints one line "@@bench {json}" with the
#     median time per inner iteration.
#   {"mode": "fixed", "loops": L}: runs L loops once and prints "@@bench {json}" (the one-shot
#     command's whole-process timing).
import json as _json
import sys as _sys
import time as _time
import types as _types

perf_counter = _time.perf_counter


class _ArgParser:
    """Records each option's default; nothing on the command line is parsed."""

    def __init__(self):
        self.defaults = {}

    def add_argument(self, *names, **options):
        long = [n for n in names if n.startswith("--")]
        name = (long[0] if long else names[0]).lstrip("-").replace("-", "_")
        default = options.get("default")
        if default is None and options.get("action") == "store_true":
            default = False
        self.defaults[options.get("dest", name)] = default


class Runner:
    """What a benchmark's main block calls; see the file comment."""

    def __init__(self, *args, **kwargs):
        self.metadata = {}
        self.argparser = _ArgParser()

    def parse_args(self, args=None):
        return _types.SimpleNamespace(**self.argparser.defaults)

    def bench_func(self, name, func, *args, inner_loops=None, **kwargs):
        def timed(loops):
            t0 = perf_counter()
            for _ in range(loops):
                func(*args)
            return perf_counter() - t0

        _measure(name, timed, inner_loops or 1)

    def bench_time_func(self, name, func, *args, inner_loops=None, **kwargs):
        _measure(name, lambda loops: func(loops, *args), inner_loops or 1)


def _measure(name, timed, inner):
    config = _WASI_PY_BENCH  # noqa: F821 (defined in front of this file)
    if config["mode"] == "fixed":
        loops = config["loops"]
        seconds = timed(loops)
        _report(name, loops, inner, [seconds])
        return
    loops = 1
    while True:
        seconds = timed(loops)
        if seconds >= config["min_sample_s"] or loops >= 1 << 20:
            break
        loops *= 2
    timed(loops)  # warm-up
    _report(name, loops, inner, [timed(loops) for _ in range(config["samples"])])


def _report(name, loops, inner, samples):
    per_iteration = sorted(s / (loops * inner) for s in samples)
    median = per_iteration[len(per_iteration) // 2]
    line = {"name": name, "loops": loops, "inner": inner, "perIterationS": median, "samplesS": samples}
    print("@@bench " + _json.dumps(line), flush=True)


_sys.modules["pyperf"] = _sys.modules[__name__]

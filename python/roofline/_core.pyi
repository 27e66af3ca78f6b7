"""Roofline estimates of LLM inference on the C++ core (type stubs of the pybind11 module).

Units are in the names: _s seconds, _bytes bytes, _gb 1e9 bytes, _per_s per second.
"""
from typing import Any, Dict, List, Optional, Sequence, Union

Ints = Union[int, Sequence[int]]

class InputError(ValueError):
    """Bad input: the message names the file, line, column and key ("file:line:col: what")."""

class Model:
    """A model: a stack of layers (load_model)."""
    name: str
    file: str
    d_model: int
    vocab_size: int
    n_layers: int
    parameters: float
    """all parameters"""
    active_parameters: float
    """parameters one token uses (MoE: the routed experts it does not use left out)"""
    weight_bytes: float
    """bytes of all weights in their storage formats"""

class Hardware:
    """A part driven by a software stack (load_hardware)."""
    name: str
    file: str
    stack: str
    bandwidth_bytes_per_s: float
    capacity_bytes: float
    compute_units: int

class Phase:
    """Totals of one pass of one GPU: the prefill, or the mean decode step."""
    time_s: float
    flops: float
    bytes: float
    compute_bound_s: float
    memory_bound_s: float
    overhead_s: float
    communication_s: float
    bound: str
    """compute, memory, overhead or communication: the largest part of the time"""
    time_p10_s: float
    """the pass's p10: time_s times the stack's end-to-end spread of the model's family where it
    states one, else with a kernel table's ops at the 10th percentile of their kind's held-out
    spread (time_s where the stack states neither)"""
    time_p90_s: float
    """the same at the 90th percentile"""

class Memory:
    """What the GPU that holds the most holds, in bytes."""
    weights_bytes: float
    kv_cache_bytes: float
    state_bytes: float
    activation_bytes: float
    buffer_bytes: float
    total_bytes: float
    capacity_bytes: float
    fits: bool

class Result:
    """An estimate (estimate())."""
    ttft_s: float
    """time to first token"""
    step_time_s: float
    """mean decode step over the generated tokens"""
    throughput_tokens_per_s: float
    end_to_end_tokens_per_s: float
    fits: bool
    overlap: str
    prefill: Phase
    decode: Phase
    memory: Memory
    j_per_output_token: Optional[float]
    """joules per output token of the decode, every GPU of the layout (None: the part states no energy)"""
    energy: Optional[dict[str, Any]]
    """the estimate's energy as --format json gives it (None: the part states no energy)"""
    def to_dict(self) -> dict[str, Any]:
        """The report as `estimate --format json` prints it (every op of every layer)."""

def data_dir() -> str:
    """Where shipped specs, parts and stacks are found by name: $ROOFLINE_DATA_DIR, else the
    package's own data (pip install), else the source tree the module was built from, else the
    installed data."""

def list_shipped(what: str) -> List[Dict[str, Any]]:
    """The shipped 'models', 'parts' or 'stacks' as dicts: name, path, names (every name that finds
    it), about (and a stack's engine and fitted_on part), as `roofline list` prints them."""

def load_model(path: str, kv_format: Optional[str] = None) -> Model:
    """A model: a spec YAML, a HuggingFace config.json or a folder holding one, or a shipped model's
    name or HuggingFace id ('llama3.1-8b', 'meta-llama/Llama-3.1-8B-Instruct'); kv_format ('bf16',
    'fp8', 'nvfp4') sets the KV cache's storage (default: the spec's dtypes.kv_cache), as
    --kv-format does."""

def load_hardware(part: str, stack: Optional[str] = None, engine: Optional[str] = None) -> Hardware:
    """A part (a hw_profiles YAML or a part's name: 'h100', 'b200', ...) driven by a stack (a YAML or
    a stack's name; default: the part's default stack), or by engine's ('vllm', 'sglang', 'trtllm')
    stack for the part: the one fitted on it, else the nearest part's, moved (as --engine)."""

def estimate(model: Model, hardware: Hardware, batch: int = 8, prefill: int = 16384, generate: int = 100,
             overlap: Optional[str] = None, tp: int = 1, pp: int = 1, ep: int = 1, dp: int = 1,
             microbatches: int = 0, sequence_parallel: bool = False, images: int = 0) -> Result:
    """TTFT and decode step of `batch` sequences of `prefill` prompt tokens and `generate` generated
    tokens; overlap: 'perfect', 'none' or 'smooth' (default: the stack's); tp, pp, ep, dp: a layout
    of several GPUs; images: images in each prompt (a model with a vision tower), encoded in the
    prefill, their tokens added to prefill (as estimate --images)."""

def speculate(model: Model, hardware: Hardware, k: int, acceptance: Union[float, Sequence[float]],
              draft: Optional[Model] = None, batch: int = 8, prefill: int = 16384, generate: int = 100,
              overlap: Optional[str] = None, tp: int = 1, ep: int = 1, dp: int = 1) -> Dict[str, Any]:
    """Speculative decoding as estimate --speculate runs it: k draft tokens a step accepted with chance
    `acceptance` (one value, or one per position), the draft a model (default: an MTP head of the
    target); a dict of tokens_per_step, draft_s, verify_s, step_s, tpot_s, plain_step_s,
    draft_prefill_s, draft_memory_bytes, break_even_batch (None: it pays at every batch that fits),
    largest_batch_tried."""

def sweep(model: Model, hardware: Hardware, batch: Ints, prefill: Ints, generate: Ints = 100,
          overlap: Optional[str] = None, tp: Ints = 1, pp: Ints = 1, ep: Ints = 1, dp: Ints = 1,
          threads: int = 0, frame: Optional[bool] = None) -> Any:
    """Every combination of the values given, evaluated in C++ by the batched engine (threads: 0 for
    every core): columns batch, prefill, generate, tp, pp, ep, dp, ttft_s, step_s, tokens_per_s,
    e2e_tokens_per_s, memory_gb, fits, prefill_bound, decode_bound, the batch fastest; a pandas
    DataFrame when pandas is installed (frame=None) or frame=True, else a dict of numpy arrays."""

def ops(model: Model, hardware: Hardware, phase: str = "decode", batch: int = 8, prefill: int = 16384,
        generate: int = 100, overlap: Optional[str] = None, tp: int = 1, pp: int = 1, ep: int = 1,
        dp: int = 1, frame: Optional[bool] = None) -> Any:
    """The ops of one pass, one row per op of a kind of layer (`layers`: how many identical layers
    it stands for; time_s is one layer's): name, kind, class, layers, stage, flops, weight_bytes,
    activation_bytes, kv_cache_bytes, state_bytes, compute_s, memory_s, time_s, bound."""

def compare(models: Sequence[Model], hardware: Hardware, prefill: Sequence[int], batch: int = 1,
            generate: int = 100) -> dict[str, Any]:
    """Several models across prompt lengths and where their TTFT and step times cross, as
    `compare --format json` prints it."""

def serve(model: Model, hardware: Hardware, isl: int = 4096, osl: int = 512, concurrency: float = 64,
          mode: str = "agg", tp: int = 1, pp: int = 1, ep: int = 1, dp: int = 1, workers: int = 1,
          max_batch: Optional[float] = None, max_batch_tokens: Optional[float] = None,
          prefill: Optional[dict[str, float]] = None, decode: Optional[dict[str, float]] = None,
          overlap: Optional[str] = None, speculate: int = 0,
          acceptance: Optional[Union[float, Sequence[float]]] = None,
          draft: Optional[Model] = None) -> dict[str, Any]:
    """TTFT, TPOT and throughput served by an engine (the stack's serving parameters) at a
    concurrency, as `serve --format json` prints it (ttft_ms, tpot_ms, tokens_per_s_gpu, ...; with
    a kernel stack, "interval": p10-p90 of TTFT, TPOT and tokens/s):
    aggregated workers, or mode='disagg' with prefill= and decode= pools (dicts with keys tp, pp,
    ep, dp, workers, max_batch, max_batch_tokens)."""

def simulate(model: Model, hardware: Hardware, isl: int = 4096, osl: int = 512, concurrency: float = 64,
             request_rate: Optional[float] = None, arrivals: Optional[str] = None, isl_dist: str = "fixed",
             osl_dist: str = "benchmark", requests: int = 0, warmup: int = 0, seed: int = 1,
             think_time: float = 0.0, ttft_ms: float = 0.0, tpot_ms: float = 0.0, timeline: bool = False,
             mode: str = "agg", tp: int = 1, pp: int = 1, ep: int = 1, dp: int = 1, workers: int = 1,
             max_batch: Optional[float] = None, max_batch_tokens: Optional[float] = None,
             prefill: Optional[dict[str, float]] = None, decode: Optional[dict[str, float]] = None,
             overlap: Optional[str] = None, prefix_tokens: int = 0, prefix_hit_rate: float = 0.0,
             speculate: int = 0, acceptance: Optional[Union[float, Sequence[float]]] = None,
             draft: Optional[Model] = None) -> dict[str, Any]:
    """The engine's scheduler simulated iteration by iteration, as `serve --simulate --format json`
    prints it: ttft_ms, tpot_ms, itl_ms, e2e_ms (each {mean, p50, p90, p99, n}), tokens_per_s,
    goodput_requests_per_s, queue and KV use. A closed loop at `concurrency` (think_time seconds
    between a user's requests), or an open loop at `request_rate` (arrivals 'poisson', 'gamma:CV'
    or 'trace:FILE.csv'); lengths 'fixed' (isl, osl), 'benchmark' (uniform within 5 % of it: the
    default of outputs, which keeps equal requests out of lockstep as in measured engines),
    'uniform:LO:HI', 'normal:MEAN:SD', 'lognormal:MEAN:SD' or 'file:F.csv'. timeline=True adds "timeline": every iteration of the
    first worker (start_s, duration_ms, prefill_tokens, decode_tokens, running, waiting, kv_use)."""

def best_deployment(model: Model, hardware: Hardware, gpus: int = 8, isl: int = 4096, osl: int = 512,
                    max_concurrency: float = 1024, ttft_ms: Optional[float] = None,
                    tpot_ms: Optional[float] = None, mode: str = "both", simulate: bool = False,
                    percentile: int = 0, prefix_tokens: int = 0, prefix_hit_rate: float = 0.0,
                    speculate: int = 0, acceptance: Optional[Union[float, Sequence[float]]] = None,
                    draft: Optional[Model] = None, joules_per_token: Optional[float] = None,
                    kv_format: Optional[str] = None, quant: Optional[str] = None) -> dict[str, Any]:
    """Every aggregated and disaggregated layout of the model on `gpus` GPUs at concurrencies 1, 2,
    4, ... max_concurrency, the best within the TTFT and TPOT targets (ms) and the energy target
    joules_per_token (J per output token) and the Pareto frontier; kv_format and quant ('GEMM[,MOE]')
    set the formats of a copy of the model, as --kv-format and --quant do; the result is
    as one model's entry of `best_deployment --format json`; where the stack states a spread (an
    engine stack's end-to-end one, or a kernel table's), "best_interval" holds the best point's
    p10-p90 TTFT, TPOT and tokens/s per GPU (null otherwise), and each frontier point its own
    "interval"."""

def forward_flops_per_token(model: Model, context: float) -> float:
    """FLOPs of a forward pass per token at a context length, as the scaling-law fits count them."""

def training_flops_per_token(model: Model, context: float) -> float:
    """Training FLOPs per token (forward and backward) at a context length."""

def simd_target() -> str:
    """The instruction set sweep() runs on here (Highway's name: AVX2, AVX3 for AVX-512, ...)."""

"""Where ONNX Runtime placed a model's nodes, read from its own record of the session.

`session.get_provider_graph_assignment_info()` (onnxruntime >= 1.24, with the session option
`session.record_ep_graph_assignment_info`) lists, per execution provider, the nodes it was
given when the graph was partitioned: free to read, and it counts the nodes inside a compiled
provider's partitions (TensorRT, CoreML, OpenVINO) one by one. Older runtimes have no such
record: there the warm-up run is profiled instead, and each node's event in the profile names
the provider that ran it and how long it took (compiled partitions then count as one node).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import onnxruntime as ort

RECORD_OPTION = "session.record_ep_graph_assignment_info"
RECORDS_ASSIGNMENT = hasattr(ort.InferenceSession, "get_provider_graph_assignment_info")


@dataclass(frozen=True)
class Placement:
    """One model's nodes per execution provider (short names, e.g. {"cpu": 185}).

    `source` says how it was measured: "assignment" (ONNX Runtime's partitioning record) or
    "profile" (a profiled run); `time_share` is each provider's share of the node time where
    a run was profiled (None otherwise).
    """

    model: str
    nodes: Mapping[str, int]
    source: str
    time_share: Mapping[str, float] | None = field(default=None)

    @property
    def total(self) -> int:
        return sum(self.nodes.values())

    def runs_all(self, provider: str) -> bool:
        """Whether `provider` runs every node of the model."""
        return self.total > 0 and self.nodes.get(provider, 0) == self.total

    def describe(self, provider: str) -> str:
        """'landmarker 185/185 nodes' (`provider`'s share), naming where the others run."""
        text = f"{self.model} {self.nodes.get(provider, 0)}/{self.total} nodes"
        others = {name: count for name, count in self.nodes.items() if name != provider}
        if others:
            text += " (" + ", ".join(f"{n} on {name}" for name, n in sorted(others.items())) + ")"
        return text

    def to_dict(self) -> dict:
        """JSON-ready: nodes, total, source and, where profiled, the time shares."""
        found = {"nodes": dict(self.nodes), "total": self.total, "source": self.source}
        if self.time_share is not None:
            found["time_share"] = {k: round(v, 4) for k, v in self.time_share.items()}
        return found


class PlacementRecorder:
    """Asks ONNX Runtime to record placement in a session's options, then reads the record.

    Use: `recorder.prepare(options)` before creating the session, `recorder.read(session,
    warm_up)` after; `warm_up` is the session's first run. Where the runtime keeps no
    assignment record, that run is profiled for the nodes. With `profile`, a second run is
    profiled too and gives each provider's share of the node time (first-run costs, such as
    cuDNN's algorithm search, left out). `short_names` maps ONNX Runtime provider names to ours
    (unknown ones are kept as they are).
    """

    def __init__(self, model: str, short_names: Mapping[str, str], profile: bool = False) -> None:
        self.model = model
        self.short_names = short_names
        self.profile = profile
        self._profile_dir: str | None = None

    def prepare(self, options: ort.SessionOptions) -> None:
        if RECORDS_ASSIGNMENT:
            options.add_session_config_entry(RECORD_OPTION, "1")
        if self.profile or not RECORDS_ASSIGNMENT:
            self._profile_dir = tempfile.mkdtemp(prefix="blazepose-placement-")
            options.enable_profiling = True
            options.profile_file_prefix = os.path.join(self._profile_dir, "profile")

    def read(self, session: ort.InferenceSession, warm_up: Callable[[], object]) -> Placement:
        if self._profile_dir is None:
            warm_up()
            return self._from_assignment(session)
        try:
            warm_up()
            if self.profile:
                warm_up()
            events = json.loads(Path(session.end_profiling()).read_text())
        finally:
            shutil.rmtree(self._profile_dir, ignore_errors=True)
        profiled = profiled_placement(self.model, events, self.short_names)
        if not RECORDS_ASSIGNMENT:
            return profiled
        nodes = self._from_assignment(session).nodes
        return Placement(self.model, nodes, "assignment", profiled.time_share)

    def _from_assignment(self, session: ort.InferenceSession) -> Placement:
        counts: Counter[str] = Counter()
        for subgraph in session.get_provider_graph_assignment_info():
            name = self.short_names.get(subgraph.ep_name, subgraph.ep_name)
            counts[name] += len(subgraph.get_nodes())
        return Placement(self.model, dict(counts), "assignment")


def profiled_placement(model: str, events: list[dict], short_names: Mapping[str, str]) -> Placement:
    """Nodes per provider (every node that ran, counted once) and each provider's share of the
    node time of the last profiled run, from ONNX Runtime's profile events."""
    runs = [e["ts"] for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    last_run = max(runs, default=0)
    providers: dict[str, str] = {}
    time: Counter[str] = Counter()
    for event in events:
        provider = event.get("args", {}).get("provider")
        if event.get("cat") != "Node" or provider is None:
            continue
        name = short_names.get(provider, provider)
        providers[event["name"].removesuffix("_kernel_time")] = name
        if event.get("ts", 0) >= last_run:
            time[name] += int(event.get("dur", 0))
    total_time = sum(time.values())
    shares = {name: t / total_time for name, t in time.items()} if total_time else None
    return Placement(model, dict(Counter(providers.values())), "profile", shares)

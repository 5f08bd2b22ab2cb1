"""PyTorch side of the training benchmark (scripts/bench/train/run.sh).

Same workloads, shapes and step as packages/core/src/bench/train-workloads.ts:
  A  MLP 784-512-512-10 (ReLU), batch 256, Adam(lr 1e-3), cross-entropy, all params trained;
  B  same MLP, rank-8 LoRA (alpha 16) on both hidden layers, frozen base weight+bias;
     trained: lora_A, lora_B of both hidden layers and the last layer (weight and bias);
  C  nn.TransformerEncoderLayer(d_model 256, nhead 4, ff 1024, dropout 0, GELU, norm_first,
     batch_first), x [32, 64, 256], Adam(lr 1e-4), loss = mean(out^2).
One step = zero_grad, forward, loss, backward, optimizer.step, loss.item() (the sync point,
like HyperLab's `await loss.data()`). Threads: torch.set_num_threads(N) (default 1, matching
tfjs-wasm in Node, which is single-threaded). Prints one JSON object.
"""
import argparse
import json
import platform
import statistics
import time

import torch
from torch import nn
import torch.nn.functional as F


class LoraLinear(nn.Module):
    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16):
        super().__init__()
        self.base = base
        self.scale = alpha / r
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features).uniform_(-1 / base.in_features**0.5, 1 / base.in_features**0.5))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        base.weight.requires_grad_(False)
        base.bias.requires_grad_(False)

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scale


def make(wid: str):
    g = torch.Generator().manual_seed(0)
    if wid in ("A", "B"):
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
        if wid == "B":
            model[0] = LoraLinear(model[0])
            model[2] = LoraLinear(model[2])
        x = torch.randn(256, 784, generator=g)
        y = torch.randint(0, 10, (256,), generator=g)
        loss_fn = lambda out: F.cross_entropy(out, y)
        lr = 1e-3
    elif wid == "C":
        model = nn.TransformerEncoderLayer(256, 4, dim_feedforward=1024, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        x = torch.randn(32, 64, 256, generator=g)
        loss_fn = lambda out: out.square().mean()
        lr = 1e-4
    else:
        raise ValueError(wid)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    return model, x, loss_fn, opt, sum(p.numel() for p in params)


def time_workload(wid: str, warmup: int, steps: int):
    model, x, loss_fn, opt, trained = make(wid)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x))
        loss.backward()
        opt.step()
        return loss.item()

    first = None
    for i in range(warmup):
        value = step()
        first = value if first is None else first
    times = []
    last = None
    for _ in range(steps):
        t0 = time.perf_counter()
        last = step()
        times.append((time.perf_counter() - t0) * 1000)
    return {"id": wid, "trainedScalars": trained, "warmup": warmup, "steps": steps, "medianMs": statistics.median(times),
            "minMs": min(times), "maxMs": max(times), "firstLoss": first, "lastLoss": last}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--workloads", default="A,B,C")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    results = [time_workload(w, a.warmup, a.steps) for w in a.workloads.split(",")]
    cfg = torch.__config__.show()
    isa = next((line.strip() for line in cfg.splitlines() if "CPU capability" in line), "")
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "python": platform.python_version(),
                      "cpuCapability": isa, "results": results}))


if __name__ == "__main__":
    main()

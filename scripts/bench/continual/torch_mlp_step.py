"""PyTorch's time for one Adam step of the Split MNIST protocol's MLP (784-400-400-10, ReLU,
batch 128, cross-entropy), at its default thread count: the peer for the continual benchmark's
wall-time target (docs/continual.md). Random data; 20 warm-up steps, then the median of --steps.

Usage: .venv/bin/python scripts/bench/continual/torch_mlp_step.py [--steps 300] [--threads N]
"""
import argparse
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=300)
parser.add_argument("--threads", type=int, default=torch.get_num_threads())
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(784, 400), torch.nn.ReLU(), torch.nn.Linear(400, 400), torch.nn.ReLU(), torch.nn.Linear(400, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.randn(128, 784)
y = torch.randint(0, 10, (128,))


def step():
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


for _ in range(20):
    step()
times = []
for _ in range(args.steps):
    t = time.perf_counter()
    step()
    times.append(time.perf_counter() - t)
times.sort()
median = 1000 * times[len(times) // 2]
print(f"PyTorch {torch.__version__}, {args.threads} threads: {median:.2f} ms per step (median of {args.steps}); 10,000 steps = {median * 10:.0f} s")

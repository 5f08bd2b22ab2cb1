"""PyTorch + PEFT reference for the bench's part 2: PEFT's multilayer-perceptron LoRA example
(examples/multilayer_perceptron/multilayer_perceptron_lora.ipynb) with the notebook's settings:
torch.manual_seed(0); X = rand(1000, 20), y = sum > 10; 800 train / 200 eval; batch 64; Adam
lr 0.002; 30 epochs; MLP 20-2000-2000-2 (+ LogSoftmax); LoRA r = 8 on seq.0, seq.2, seq.4 in
modules_to_save; eval loss = mean of the per-batch mean losses. Prints JSON on stdout.

Usage: .venv/bin/python scripts/bench/adapters/peft_mlp.py [--epochs N] [--seeds K]
"""

import argparse
import copy
import json
import time

import peft
import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, num_units_hidden=2000):
        super().__init__()
        self.seq = nn.Sequential(
            nn.Linear(20, num_units_hidden),
            nn.ReLU(),
            nn.Linear(num_units_hidden, num_units_hidden),
            nn.ReLU(),
            nn.Linear(num_units_hidden, 2),
            nn.LogSoftmax(dim=-1),
        )

    def forward(self, x):
        return self.seq(x)


def run(model, epochs, lr, train_dl, eval_dl):
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    criterion = nn.CrossEntropyLoss()
    curve, train_seconds = [], 0.0
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        for xb, yb in train_dl:
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        train_seconds += time.perf_counter() - t0
        model.eval()
        total, correct, n = 0.0, 0, 0
        with torch.no_grad():
            for xb, yb in eval_dl:
                out = model(xb)
                total += criterion(out, yb).item()
                correct += (out.argmax(-1) == yb).sum().item()
                n += len(yb)
        curve.append(total / len(eval_dl))
    return {"final": curve[-1], "min": min(curve), "min_epoch": curve.index(min(curve)), "acc": correct / n, "seconds": train_seconds, "curve": curve}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3, help="runs with torch.manual_seed(0), (1), …; seed 0 is the notebook's")
    args = parser.parse_args()
    runs = [one(seed, args.epochs) for seed in range(args.seeds)]
    print(json.dumps({"torch": torch.__version__, "peft": peft.__version__, "threads": torch.get_num_threads(), "runs": runs}))


def one(seed, epochs):
    torch.manual_seed(seed)
    X = torch.rand((1000, 20))
    y = (X.sum(1) > 10).long()
    n_train, batch_size, lr = 800, 64, 0.002
    train_dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[:n_train], y[:n_train]), batch_size=batch_size, shuffle=True)
    eval_dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[n_train:], y[n_train:]), batch_size=batch_size)
    full = run(MLP(), epochs, lr, train_dl, eval_dl)
    module = MLP()
    config = peft.LoraConfig(r=8, target_modules=["seq.0", "seq.2"], modules_to_save=["seq.4"])
    model = peft.get_peft_model(copy.deepcopy(module), config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    lora = run(model, epochs, lr, train_dl, eval_dl)
    return {"seed": seed, "full": {**full, "trainable": sum(p.numel() for p in module.parameters())}, "lora": {**lora, "trainable": trainable}}


if __name__ == "__main__":
    main()

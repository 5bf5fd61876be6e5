#!/usr/bin/python3
"""torch_lstm.py — the PyTorch peer of hjdl's `lstm:128,last,lse-class:16` on row-sequential
Fashion-MNIST (Debian's python3-torch, CPU): nn.LSTM(28, 128, batch_first=True), the last
step's h, then the LSE class readout of the same shape as hjdl's lse-class:16 (a linear
layer of 10 x 16 neurons, F_c = eps * logsumexp over class c's 16 neurons / eps), softmax
cross-entropy over the F_c; Adam (lr 1e-3), batch 128, float64, torch.set_num_threads(T).
Images scaled to [0, 1], row r of the image = step r (as hjdl_bench --seq-*).

    time   seconds per training step (zero_grad, forward, backward, Adam step) over
           BATCHES batches of 128 after WARM warm-up batches; their median times
           ceil(60000/128) = 469 is the time per epoch (hjdl_bench --seq-time measures
           the same way); one CSV row
    train  EPOCHS epochs with the test accuracy after each (CSV like hjdl_bench --seq-train)

usage: torch_lstm.py time [--batches B] [--threads T] [--csv FILE] [--eps E]
       torch_lstm.py train [--epochs E] [--threads T] [--csv FILE] [--eps E] [--lr LR]
"""
import argparse
import gzip
import math
import statistics
import time

import numpy as np
import torch

DATA = "/usr/share/datasets/fashion-mnist"
T, D, H, C, N = 28, 28, 128, 10, 16
BATCH = 128


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split):
    x = idx(f"{DATA}/{split}-images-idx3-ubyte.gz").astype(np.float64) / 255.0
    y = idx(f"{DATA}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(x.reshape(-1, T, D)), torch.from_numpy(y)


class Model(torch.nn.Module):
    def __init__(self, eps):
        super().__init__()
        self.eps = eps
        self.lstm = torch.nn.LSTM(D, H, batch_first=True)
        self.readout = torch.nn.Linear(H, C * N)

    def forward(self, x):
        out, _ = self.lstm(x)
        z = self.readout(out[:, -1, :]).view(-1, C, N)
        return self.eps * torch.logsumexp(z / self.eps, dim=2)


def setup(a):
    torch.set_num_threads(a.threads)
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(a.seed)
    model = Model(a.eps)
    return model, torch.optim.Adam(model.parameters(), lr=a.lr)


def step(model, opt, xb, yb):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    opt.step()
    return loss.item()


def cmd_time(a):
    model, opt = setup(a)
    x, y = load("train")
    g = torch.Generator().manual_seed(a.seed)
    perm = torch.randperm(x.shape[0], generator=g)
    times = []
    for k in range(a.warm + a.batches):
        sel = perm[k * BATCH:(k + 1) * BATCH]
        t0 = time.perf_counter()
        step(model, opt, x[sel], y[sel])
        if k >= a.warm:
            times.append(time.perf_counter() - t0)
    per_epoch = math.ceil(x.shape[0] / BATCH)
    med, mean = statistics.median(times), statistics.fmean(times)
    print(f"torch nn.LSTM: {med:.4f} s per batch of {BATCH} (median of {a.batches}; mean {mean:.4f}), "
          f"{med * per_epoch:.1f} s per epoch (x {per_epoch} batches)")
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("impl,arch,threads,batch,batches,median_batch_s,mean_batch_s,epoch_s\n")
            f.write(f"torch,nn.LSTM(28;128)+lse-class:16,{a.threads},{BATCH},{a.batches},"
                    f"{med:.6f},{mean:.6f},{med * per_epoch:.3f}\n")


def cmd_train(a):
    model, opt = setup(a)
    x, y = load("train")
    xt, yt = load("t10k")
    g = torch.Generator().manual_seed(a.seed)
    f = open(a.csv, "w") if a.csv else None
    if f:
        f.write("epoch,train_seconds,batch_loss,test_loss,test_accuracy\n")
    total = 0.0
    for e in range(1, a.epochs + 1):
        perm = torch.randperm(x.shape[0], generator=g)
        t0 = time.perf_counter()
        losses = [step(model, opt, x[perm[s:s + BATCH]], y[perm[s:s + BATCH]])
                  for s in range(0, x.shape[0], BATCH)]
        secs = time.perf_counter() - t0
        total += secs
        with torch.no_grad():
            F = model(xt)
            tl = torch.nn.functional.cross_entropy(F, yt).item()
            acc = (F.argmax(dim=1) == yt).double().mean().item()
        print(f"epoch {e:2d}  train {secs:.1f} s  batch loss {statistics.fmean(losses):.4f}  "
              f"test loss {tl:.4f}  test accuracy {acc:.4f}", flush=True)
        if f:
            f.write(f"{e},{secs:.3f},{statistics.fmean(losses):.6f},{tl:.6f},{acc:.6f}\n")
            f.flush()
    print(f"total training time {total:.1f} s over {a.epochs} epochs (test evaluations excluded)")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["time", "train"])
    p.add_argument("--batches", type=int, default=40)
    p.add_argument("--warm", type=int, default=3)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eps", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--csv")
    a = p.parse_args()
    (cmd_time if a.mode == "time" else cmd_train)(a)


if __name__ == "__main__":
    main()

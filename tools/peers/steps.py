#!/usr/bin/env python3
"""PyTorch twin of tools/bench_steps.cpp: one training step of every model the studies train, with the
same nets, batch sizes, losses and optimisers, timed the same way (3 warm-up steps, then the median
over at least 5 steps and `--seconds`, plus the process CPU time per step). Prints the same kind of
table, so tools/bench_cpu.sh can put the two side by side. Comparison only: the project never imports
PyTorch."""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def cvae_step(n_class, batch):
    enc = nn.Sequential(nn.Linear(784 + n_class, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 16))
    dec = nn.Sequential(nn.Linear(8 + n_class, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 784))
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-4)
    x = torch.rand(batch, 784)
    c = F.one_hot(torch.arange(batch) % 10, 10).float()[:, :n_class]

    def step():
        opt.zero_grad(set_to_none=True)
        mu, logvar = enc(torch.cat([x, c], 1)).chunk(2, 1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = dec(torch.cat([z, c], 1))
        loss = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        loss = loss - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss.backward()
        opt.step()
    return step


class Judge(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 10, 5), nn.BatchNorm2d(10)
        self.conv2, self.bn2 = nn.Conv2d(10, 20, 5), nn.BatchNorm2d(20)
        self.drop2 = nn.Dropout2d(0.5)
        self.fc1, self.fc2 = nn.Linear(320, 50), nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.bn1(self.conv1(x)), 2))
        x = F.relu(F.max_pool2d(self.drop2(self.bn2(self.conv2(x))), 2))
        x = F.dropout(F.relu(self.fc1(x.flatten(1))), 0.5, self.training)
        return self.fc2(x)


def judge_step(batch=64):
    model = Judge()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.rand(batch, 1, 28, 28), torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def mae_step(batch=128, code=32):
    enc = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(), nn.Flatten(),
                        nn.Linear(1568, code))
    dec = nn.Sequential(nn.Linear(code, 1568), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
                        nn.ConvTranspose2d(32, 16, 3, 2, 1, 1), nn.ReLU(), nn.ConvTranspose2d(16, 1, 3, 2, 1, 1))
    q = nn.Linear(code, 10)
    ae_opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)
    q_opt = torch.optim.Adam(q.parameters(), lr=1e-3)
    x, y = torch.rand(batch, 1, 28, 28), torch.randint(0, 10, (batch,))

    def step():
        ae_opt.zero_grad(set_to_none=True)
        q_opt.zero_grad(set_to_none=True)
        h = enc(x)
        loss = F.binary_cross_entropy_with_logits(dec(h), x, reduction="sum") / batch
        loss = loss + 10.0 * F.cross_entropy(q(h), y)
        loss.backward()
        ae_opt.step()
        q_opt.step()
    return step


def lntl_nets():
    f = nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 32, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
                      nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU())
    g = nn.Sequential(nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(), nn.Conv2d(64, 64, 3, 1, 1), nn.ReLU(),
                      nn.AvgPool2d(7), nn.Flatten(), nn.Linear(64, 10))
    heads = nn.ModuleList(nn.Sequential(nn.Conv2d(32, 32, 3, 1, 1), nn.BatchNorm2d(32), nn.ReLU(),
                                        nn.Conv2d(32, 8, 3, 1, 1)) for _ in range(3))
    return f, g, heads


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, mu):
        ctx.mu = mu
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.mu * grad, None


def lntl_step(full, batch=128, lam=0.01, mu=0.1):
    f, g, heads = lntl_nets()
    sgd = dict(lr=0.01, momentum=0.9, weight_decay=5e-4)
    opt_f, opt_g, opt_h = (torch.optim.SGD(m.parameters(), **sgd) for m in (f, g, heads))
    x, y = torch.rand(batch, 3, 28, 28), torch.randint(0, 10, (batch,))
    bins = torch.randint(0, 8, (3, batch, 14, 14))

    def step():
        for o in (opt_f, opt_g, opt_h):
            o.zero_grad(set_to_none=True)
        feat = f(x)
        loss = F.cross_entropy(g(feat), y)
        if full:
            neg_entropy = sum((F.softmax(o, 1) * F.log_softmax(o, 1)).sum(1).mean() for o in (h(feat) for h in heads))
            loss = loss + lam * neg_entropy / 3
        loss.backward()
        opt_f.step()
        opt_g.step()
        if not full:
            return
        opt_f.zero_grad(set_to_none=True)
        opt_h.zero_grad(set_to_none=True)
        feat = GradReverse.apply(f(x), mu)
        sum(F.cross_entropy(h(feat), bins[c]) for c, h in enumerate(heads)).backward()
        opt_h.step()
        opt_f.step()
    return step


MODELS = [("cvae", 256, lambda: cvae_step(10, 256)), ("vae", 128, lambda: cvae_step(0, 128)),
          ("judge", 64, judge_step), ("mae", 128, mae_step),
          ("lntl_baseline", 128, lambda: lntl_step(False)), ("lntl", 128, lambda: lntl_step(True))]


def median_step_seconds(step, seconds):
    for _ in range(3):
        step()
    times, start, cpu = [], time.perf_counter(), time.process_time()
    while len(times) < 5 or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(times), (time.process_time() - cpu) / len(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"# pytorch {torch.__version__} threads={torch.get_num_threads()}")
    print("| model | batch | ms/step | steps timed | CPU ms/step |\n|---|---|---|---|---|")
    for name, batch, make in MODELS:
        if args.only and args.only != name:
            continue
        s, n, cpu = median_step_seconds(make(), args.seconds)
        print(f"| {name} | {batch} | {1e3 * s:.3f} | {n} | {1e3 * cpu:.3f} |", flush=True)


if __name__ == "__main__":
    main()

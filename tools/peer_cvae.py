#!/usr/bin/env python3
"""PyTorch peer of bench_cvae: the same CVAE training step (784+10 -> 512 -> 256 -> z 8; 8+10 -> 256 ->
512 -> 784 logits; BCE-from-logits + KL summed over the batch; Adam), timed eager and with
torch.compile on the GPU, for the comparison in bench/RESULTS.md. Used only for comparison: the
project itself never imports PyTorch. TF32 is off, as in the engine's fp32 GEMMs."""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Cvae(nn.Module):
    def __init__(self, x_dim=784, n_class=10, h1=512, h2=256, z_dim=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(x_dim + n_class, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(),
                                 nn.Linear(h2, 2 * z_dim))
        self.dec = nn.Sequential(nn.Linear(z_dim + n_class, h2), nn.ReLU(), nn.Linear(h2, h1), nn.ReLU(),
                                 nn.Linear(h1, x_dim))
        self.z_dim = z_dim

    def loss(self, x, c):
        mu, logvar = self.enc(torch.cat([x, c], 1)).chunk(2, 1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.dec(torch.cat([z, c], 1))
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return bce + kl


def time_steps(step, steps):
    for _ in range(20):  # warm-up (and compilation)
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    x = torch.rand(args.batch, 784, device=dev)
    c = F.one_hot(torch.randint(0, 10, (args.batch,), device=dev), 10).float()
    print(f"| PyTorch {torch.__version__} | CVAE step (batch {args.batch}) | steps/s |\n|---|---|---|")
    for mode in ("eager", "compile"):
        model = Cvae().to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        loss_fn = torch.compile(model.loss) if mode == "compile" else model.loss

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(x, c).backward()
            opt.step()

        s = time_steps(step, args.steps)
        print(f"| {mode} | {1e3 * s:.3f} ms | {1.0 / s:.1f} |")


if __name__ == "__main__":
    main()

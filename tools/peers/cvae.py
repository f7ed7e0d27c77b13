#!/usr/bin/env python3
"""PyTorch peer of bench_cvae on the GPU: the same CVAE training step (784+10 -> 512 -> 256 -> z 8; 8+10 ->
256 -> 512 -> 784 logits; BCE-from-logits + KL summed over the batch; Adam), timed eager and with
torch.compile, and the diagonal Fisher the way PyTorch code usually gets it, one backward per sample
(the engine batches it: models/cvae_fisher.h). Used only for comparison (tools/gpu_check.sh): the project
itself never imports PyTorch. TF32 is off, as in the engine's fp32 GEMMs. Prints one `key=value` line
per figure, for the kit's report."""
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


def seconds_per_call(call, calls, warmup=20):
    for _ in range(warmup):  # warm-up (and compilation)
        call()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(calls):
        call()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / calls


def per_sample_fisher_seconds(model, samples):
    """Seconds per sample of the per-sample loop: draw (z, c), decode, one backward of the sample's
    negative ELBO, square and add every gradient."""
    fisher = [torch.zeros_like(p) for p in model.parameters()]

    def one():
        c = F.one_hot(torch.randint(0, 10, (1,), device="cuda"), 10).float()
        with torch.no_grad():
            x = torch.sigmoid(model.dec(torch.cat([torch.randn(1, model.z_dim, device="cuda"), c], 1)))
        model.zero_grad(set_to_none=True)
        model.loss(x, c).backward()
        for f, p in zip(fisher, model.parameters()):
            f += p.grad.pow(2)

    return seconds_per_call(one, samples, warmup=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--fisher-samples", type=int, default=500, help="timed samples of the per-sample loop")
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    print(f"torch={torch.__version__} device={torch.cuda.get_device_name(0)}")
    x = torch.rand(args.batch, 784, device=dev)
    c = F.one_hot(torch.randint(0, 10, (args.batch,), device=dev), 10).float()
    for mode in ("eager", "compile"):
        model = Cvae().to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        loss_fn = torch.compile(model.loss) if mode == "compile" else model.loss

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(x, c).backward()
            opt.step()

        s = seconds_per_call(step, args.steps)
        print(f"step_ms_{mode}={1e3 * s:.4f}")
    s = per_sample_fisher_seconds(Cvae().to(dev), args.fisher_samples)
    print(f"fisher_per_sample_ms={1e3 * s:.4f} fisher_50k_s_extrapolated={50000 * s:.2f}")


if __name__ == "__main__":
    main()

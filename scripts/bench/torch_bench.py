#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch (CPU) peer: the same 784-256-128-10 relu network, softmax/cross-
entropy, plain SGD, the same batch, data in memory. Prints one CSV line per
timed epoch: torch,<setting>,<batch>,<seconds>,<samples_per_s>.
  torch_bench.py single BATCH EPOCHS TORCH_THREADS
  torch_bench.py ddp BATCH EPOCHS            (2 processes x 1 thread, gloo)"""
import gzip, os, sys, time

if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
    print(__doc__)
    sys.exit(0 if len(sys.argv) > 1 else 2)
import numpy as np

D = "/usr/share/datasets/fashion-mnist/"

def load():
    with gzip.open(D + "train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(D + "train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return x, y

def net(torch):
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                               torch.nn.ReLU(), torch.nn.Linear(128, 10))

def epoch(torch, model, opt, X, Y, batch, rank=0, size=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(X.shape[0], generator=g)
    lossf = torch.nn.CrossEntropyLoss()
    for k in range(0, X.shape[0], batch):
        idx = perm[k:k + batch]
        lo, hi = len(idx) * rank // size, len(idx) * (rank + 1) // size
        idx = idx[lo:hi]
        opt.zero_grad()
        lossf(model(X[idx]), Y[idx]).backward()
        opt.step()

def single(batch, epochs, threads):
    import torch
    torch.set_num_threads(threads)
    x, y = load()
    X = torch.from_numpy(x.astype(np.float32) / 255.0)
    Y = torch.from_numpy(y.astype(np.int64))
    model = net(torch)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for e in range(epochs):
        t0 = time.perf_counter()
        epoch(torch, model, opt, X, Y, batch, seed=e)
        dt = time.perf_counter() - t0
        print(f"torch,single,{batch},{dt:.4f},{X.shape[0] / dt:.1f}", flush=True)

def ddp_worker(rank, batch, epochs):
    import torch, torch.distributed as dist
    torch.set_num_threads(1)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29533")
    dist.init_process_group("gloo", rank=rank, world_size=2)
    x, y = load()
    X = torch.from_numpy(x.astype(np.float32) / 255.0)
    Y = torch.from_numpy(y.astype(np.int64))
    model = torch.nn.parallel.DistributedDataParallel(net(torch))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for e in range(epochs):
        dist.barrier()
        t0 = time.perf_counter()
        epoch(torch, model, opt, X, Y, batch, rank, 2, seed=e)
        dist.barrier()
        dt = time.perf_counter() - t0
        if rank == 0:
            print(f"torch,ddp,{batch},{dt:.4f},{X.shape[0] / dt:.1f}", flush=True)
    dist.destroy_process_group()

if __name__ == "__main__":
    mode, batch, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if mode == "single":
        single(batch, epochs, int(sys.argv[4]))
    else:
        import torch.multiprocessing as mp
        mp.spawn(ddp_worker, args=(batch, epochs), nprocs=2)

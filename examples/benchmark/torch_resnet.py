"""ResNet-20 training throughput in PyTorch: the twin of bench.mjs's `--models resnet20`.

The CIFAR ResNet-20 of He et al. (2016) as @bnlab/models' `resnet` builds it: a 3x3 stem of 16
channels, three stages of three basic blocks (conv-BN-ReLU-conv-BN, add the shortcut, ReLU) of
16, 32 and 64 channels, stride 2 (padding 1 on every side) in the first block of stages 2 and 3,
global average pooling and a dense classifier; no convolution biases. Shortcut 'B': a 1x1
convolution with the block's stride and its own batch norm; 'A': x[:, :, ::2, ::2] with zero
channels appended. Batch 128, SGD with momentum 0.9 (lr 0.1), CIFAR-shaped random data.

    python3 torch_resnet.py --threads 1 --steps 10 --warmup 3 --shortcut B
    python3 torch_resnet.py --serve ...   # bench.mjs: after the warm-up, one line per request

Prints one JSON line: train_img_per_s, params (trainable), threads, system. With --serve it
prints {"ready": ...} after the warm-up, then, for each line N read from stdin, trains N steps
and prints their JSON line (so bench.mjs can alternate with bnlab step block by step block).
"""
import argparse
import json
import platform
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride, shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.norm1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(cout)
        self.stride, self.extra = stride, cout - cin
        self.project = None
        if (stride != 1 or cin != cout) and shortcut == 'B':
            self.project = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.zero_pad = (stride != 1 or cin != cout) and shortcut == 'A'

    def forward(self, x):
        y = torch.relu(self.norm1(self.conv1(x)))
        y = self.norm2(self.conv2(y))
        s = x
        if self.project is not None:
            s = self.project(x)
        elif self.zero_pad:
            s = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.extra))
        return torch.relu(y + s)


def resnet20(shortcut):
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for cout, stride in [(16, 1), (32, 2), (64, 2)]:
        for b in range(3):
            layers.append(Block(cin, cout, stride if b == 0 else 1, shortcut))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--shortcut', choices=['A', 'B'], default='B')
    p.add_argument('--serve', action='store_true', help='train blocks of steps on request (see above)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = resnet20(a.shortcut)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    batches = [(torch.randn(a.batch, 3, 32, 32), torch.randint(0, 10, (a.batch,))) for _ in range(4)]

    def step(i):
        x, y = batches[i % len(batches)]
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()  # wait for the step, as bnlab's side reads its loss

    for i in range(a.warmup):
        step(i)

    def timed(steps):
        t0 = time.perf_counter()
        for i in range(steps):
            loss = step(i)
        seconds = time.perf_counter() - t0
        return {
            'train_img_per_s': round(steps * a.batch / seconds, 1),
            'final_loss': loss,
            'params': sum(q.numel() for q in model.parameters() if q.requires_grad),
            'threads': a.threads,
            'shortcut': a.shortcut,
            'system': f'PyTorch {torch.__version__}, {platform.python_implementation()} {platform.python_version()}',
        }

    if not a.serve:
        print(json.dumps(timed(a.steps)))
        return
    print(json.dumps({'ready': True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            break
        print(json.dumps(timed(int(line))), flush=True)


if __name__ == '__main__':
    main()

"""PyTorch peer of `anyrefill bench --train`: one LoRA training step of FLUX's blocks in float32.

Our own code (not BFL's): the blocks of torch_blocks.py with a LoRA beside every attention,
projection and feed-forward linear (AnyRefill's targets: per double block img/txt qkv, proj,
mlp.0, mlp.2; per single block linear1, linear2), as BFL's modules/lora.py LinearLora computes
it: h = W x + b + scale * B(A x). The base weights are frozen (BF16 values held as float32);
img_in, txt_in and the final layer's projection frame the blocks as in the model. One step:
forward, the rectified-flow MSE, loss.backward() (autograd keeps every activation; no
checkpointing), torch.optim.AdamW on A and B. --warmup steps (default 1), then one timed step.

    /usr/bin/python3 bench/peer/torch_train.py [--double 1] [--single 1] [--image-tokens 2048]
        [--text-tokens 512] [--lora-rank 128] [--threads 2] [--warmup 1]

Prints one JSON line: seconds of the step, and of its forward and backward (+ AdamW) parts.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_blocks as tb  # noqa: E402

TARGETS = ("img_attn.qkv", "img_attn.proj", "img_mlp.0", "img_mlp.2",
           "txt_attn.qkv", "txt_attn.proj", "txt_mlp.0", "txt_mlp.2", "linear1", "linear2")


class LinearLora(nn.Module):
    """A frozen nn.Linear plus scale * B(A x): A kaiming-uniform, B zero (PEFT's initialisation)."""

    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.lora_A = nn.Linear(base.in_features, rank, bias=False)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.normal_(self.lora_B.weight, std=1e-3)  # non-zero, so that every product does real work
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + self.scale * self.lora_B(self.lora_A(x))


def add_lora(block, rank):
    for name, module in list(block.named_modules()):
        if name in TARGETS:
            parent_name, _, child = name.rpartition(".")
            parent = block.get_submodule(parent_name) if parent_name else block
            setattr(parent, child, LinearLora(module, rank, rank))


def main():
    p = tb.shape_arguments(argparse.ArgumentParser())
    p.add_argument("--lora-rank", type=int, default=128)
    p.add_argument("--warmup", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    h = tb.HIDDEN
    img_in, txt_in, final = nn.Linear(384, h), nn.Linear(4096, h), nn.Linear(h, 64)
    doubles = [tb.DoubleStreamBlock() for _ in range(a.double)]
    singles = [tb.SingleStreamBlock() for _ in range(a.single)]
    for m in [img_in, txt_in, final] + doubles + singles:  # BF16 values, float32 arithmetic (as ours)
        with torch.no_grad():
            for prm in m.parameters():
                prm.copy_(prm.to(torch.bfloat16).float())
                prm.requires_grad_(False)
    for blk in doubles + singles:
        add_lora(blk, a.lora_rank)
    params = [q for blk in doubles + singles for n, q in blk.named_parameters() if "lora_" in n]
    opt = torch.optim.AdamW(params, lr=1e-4)

    li, lt = a.image_tokens, a.text_tokens
    ids = tb.canvas_ids(li, lt)
    img, txt, vec = torch.randn(1, li, 384), torch.randn(1, lt, 4096), torch.randn(1, h)
    target = torch.randn(1, li, 64)
    pe = tb.embed_nd(ids)

    def step():
        t0 = time.perf_counter()
        i, t = img_in(img), txt_in(txt)
        for blk in doubles:
            i, t = blk(i, t, vec, pe)
        x = torch.cat((t, i), dim=1)
        for blk in singles:
            x = blk(x, vec, pe)
        loss = torch.mean((final(x[:, lt:]) - target) ** 2)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1

    w0 = time.perf_counter()
    for _ in range(a.warmup):
        step()
    warm = time.perf_counter() - w0
    c0 = time.process_time()
    fwd, bwd = step()
    cpu = time.process_time() - c0
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": round(fwd + bwd, 3), "forward_seconds": round(fwd, 3),
                      "backward_and_adamw_seconds": round(bwd, 3), "cpu_seconds": round(cpu, 3),
                      "peak_rss_bytes": peak_rss, "backend": "torch " + torch.__version__ + " float32 autograd",
                      "threads": torch.get_num_threads(), "double": a.double, "single": a.single,
                      "image_tokens": li, "text_tokens": lt, "lora_rank": a.lora_rank,
                      "lora_parameters": sum(q.numel() for q in params), "warmup_steps": a.warmup,
                      "warmup_seconds": round(warm, 3)}))


if __name__ == "__main__":
    main()

"""PyTorch peer of `anyrefill bench`: FLUX's DoubleStreamBlock and SingleStreamBlock in float32.

Our own re-implementation of the two blocks of BFL's reference model (flux/modules/layers.py:
Modulation, QKNorm/RMSNorm, SelfAttention's qkv/proj, the GELU(tanh) MLP, RoPE as
flux/math.py applies it), written for the torch in Debian (1.13, which has no
scaled_dot_product_attention: attention is softmax(q k^T / sqrt(d)) v spelled out). Same
shapes as ours: hidden 3072, 24 heads, mlp 4x, image + text tokens; random weights.

    /usr/bin/python3 bench/peer/torch_blocks.py [--double 1] [--single 1] [--image-tokens 2048]
        [--text-tokens 512] [--threads 2]

One warm-up pass, then one timed pass; prints one JSON line like `anyrefill bench` (FLOP by
the same formula: per block 2 * 113.2e6 * tokens + 4 * tokens^2 * 3072).
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

HIDDEN, HEADS, MLP_RATIO, AXES, THETA = 3072, 24, 4.0, (16, 56, 56), 10000


def rope(pos, dim, theta):
    scale = torch.arange(0, dim, 2, dtype=torch.float64) / dim
    omega = 1.0 / (theta ** scale)
    out = torch.einsum("...n,d->...nd", pos.to(torch.float64), omega)
    out = torch.stack([torch.cos(out), -torch.sin(out), torch.sin(out), torch.cos(out)], dim=-1)
    return out.reshape(*out.shape[:-1], 2, 2).float()


def embed_nd(ids):  # ids [B, L, 3] -> pe [B, 1, L, D/2, 2, 2]
    return torch.cat([rope(ids[..., i], AXES[i], THETA) for i in range(3)], dim=-3).unsqueeze(1)


def apply_rope(xq, xk, pe):
    xq_ = xq.float().reshape(*xq.shape[:-1], -1, 1, 2)
    xk_ = xk.float().reshape(*xk.shape[:-1], -1, 1, 2)
    xq_out = pe[..., 0] * xq_[..., 0] + pe[..., 1] * xq_[..., 1]
    xk_out = pe[..., 0] * xk_[..., 0] + pe[..., 1] * xk_[..., 1]
    return xq_out.reshape(*xq.shape), xk_out.reshape(*xk.shape)


def attention(q, k, v, pe):  # [B, H, L, D] -> [B, L, H*D]
    q, k = apply_rope(q, k, pe)
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    x = torch.matmul(torch.softmax(scores, dim=-1), v)
    b, h, l, d = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, l, h * d)


def split_heads(qkv):  # [B, L, 3*H*D] -> 3 x [B, H, L, D]
    b, l, _ = qkv.shape
    q, k, v = qkv.reshape(b, l, 3, HEADS, -1).permute(2, 0, 3, 1, 4)
    return q, k, v


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        rrms = torch.rsqrt(torch.mean(x.float() ** 2, dim=-1, keepdim=True) + 1e-6)
        return x * rrms * self.scale


class QKNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.query_norm, self.key_norm = RMSNorm(dim), RMSNorm(dim)

    def forward(self, q, k):
        return self.query_norm(q), self.key_norm(k)


class Modulation(nn.Module):
    def __init__(self, dim, double):
        super().__init__()
        self.multiplier = 6 if double else 3
        self.lin = nn.Linear(dim, self.multiplier * dim)

    def forward(self, vec):
        return self.lin(F.silu(vec))[:, None, :].chunk(self.multiplier, dim=-1)


class SelfAttention(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.norm = QKNorm(dim // HEADS)
        self.proj = nn.Linear(dim, dim)


def mlp(dim, hidden):
    return nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))


class DoubleStreamBlock(nn.Module):
    def __init__(self):
        super().__init__()
        h, m = HIDDEN, int(HIDDEN * MLP_RATIO)
        self.img_mod, self.txt_mod = Modulation(h, True), Modulation(h, True)
        self.img_norm1 = nn.LayerNorm(h, elementwise_affine=False, eps=1e-6)
        self.img_attn = SelfAttention(h)
        self.img_norm2 = nn.LayerNorm(h, elementwise_affine=False, eps=1e-6)
        self.img_mlp = mlp(h, m)
        self.txt_norm1 = nn.LayerNorm(h, elementwise_affine=False, eps=1e-6)
        self.txt_attn = SelfAttention(h)
        self.txt_norm2 = nn.LayerNorm(h, elementwise_affine=False, eps=1e-6)
        self.txt_mlp = mlp(h, m)

    def forward(self, img, txt, vec, pe):
        i_shift1, i_scale1, i_gate1, i_shift2, i_scale2, i_gate2 = self.img_mod(vec)
        t_shift1, t_scale1, t_gate1, t_shift2, t_scale2, t_gate2 = self.txt_mod(vec)
        img_q, img_k, img_v = split_heads(self.img_attn.qkv((1 + i_scale1) * self.img_norm1(img) + i_shift1))
        img_q, img_k = self.img_attn.norm(img_q, img_k)
        txt_q, txt_k, txt_v = split_heads(self.txt_attn.qkv((1 + t_scale1) * self.txt_norm1(txt) + t_shift1))
        txt_q, txt_k = self.txt_attn.norm(txt_q, txt_k)
        q, k, v = (torch.cat(p, dim=2) for p in ((txt_q, img_q), (txt_k, img_k), (txt_v, img_v)))
        attn = attention(q, k, v, pe)
        txt_attn, img_attn = attn[:, :txt.shape[1]], attn[:, txt.shape[1]:]
        img = img + i_gate1 * self.img_attn.proj(img_attn)
        img = img + i_gate2 * self.img_mlp((1 + i_scale2) * self.img_norm2(img) + i_shift2)
        txt = txt + t_gate1 * self.txt_attn.proj(txt_attn)
        txt = txt + t_gate2 * self.txt_mlp((1 + t_scale2) * self.txt_norm2(txt) + t_shift2)
        return img, txt


class SingleStreamBlock(nn.Module):
    def __init__(self):
        super().__init__()
        h = HIDDEN
        self.mlp_hidden = int(h * MLP_RATIO)
        self.linear1 = nn.Linear(h, 3 * h + self.mlp_hidden)
        self.linear2 = nn.Linear(h + self.mlp_hidden, h)
        self.norm = QKNorm(h // HEADS)
        self.pre_norm = nn.LayerNorm(h, elementwise_affine=False, eps=1e-6)
        self.modulation = Modulation(h, False)

    def forward(self, x, vec, pe):
        shift, scale, gate = self.modulation(vec)
        qkv, mlp_in = torch.split(self.linear1((1 + scale) * self.pre_norm(x) + shift),
                                  [3 * HIDDEN, self.mlp_hidden], dim=-1)
        q, k, v = split_heads(qkv)
        q, k = self.norm(q, k)
        attn = attention(q, k, v, pe)
        return x + gate * self.linear2(torch.cat((attn, F.gelu(mlp_in, approximate="tanh")), 2))


def shape_arguments(p):
    """The options every peer shares: block counts, tokens, threads (as `anyrefill bench` has them)."""
    p.add_argument("--double", type=int, default=1)
    p.add_argument("--single", type=int, default=1)
    p.add_argument("--image-tokens", type=int, default=2048)
    p.add_argument("--text-tokens", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    return p


def canvas_ids(li, lt):
    """Position ids [1, lt + li, 3]: text zeros, then (0, row, col) on a canvas twice as wide as high."""
    rows = max(1, int(math.sqrt(li / 2)))
    while li % rows:
        rows -= 1
    cols = li // rows
    img_ids = torch.zeros(1, li, 3)
    img_ids[0, :, 1] = torch.arange(li) // cols
    img_ids[0, :, 2] = torch.arange(li) % cols
    return torch.cat((torch.zeros(1, lt, 3), img_ids), dim=1)


def main():
    a = shape_arguments(argparse.ArgumentParser()).parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    doubles = [DoubleStreamBlock() for _ in range(a.double)]
    singles = [SingleStreamBlock() for _ in range(a.single)]
    for blk in doubles + singles:  # BF16 weights, run in float32 (as ours: BF16 stored, F32 arithmetic)
        with torch.no_grad():
            for prm in blk.parameters():
                prm.copy_(prm.to(torch.bfloat16).float())
    li, lt = a.image_tokens, a.text_tokens
    ids = canvas_ids(li, lt)
    img, txt, vec = torch.randn(1, li, HIDDEN), torch.randn(1, lt, HIDDEN), torch.randn(1, HIDDEN)

    def forward():
        pe = embed_nd(ids)
        i, t = img, txt
        for blk in doubles:
            i, t = blk(i, t, vec, pe)
        x = torch.cat((t, i), dim=1)
        for blk in singles:
            x = blk(x, vec, pe)
        return x

    with torch.inference_mode():
        w0 = time.perf_counter()
        forward()
        warm = time.perf_counter() - w0
        c0 = time.process_time()
        t0 = time.perf_counter()
        forward()
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
    tokens = li + lt
    gflop = (a.double + a.single) * (2 * 113.2e6 * tokens + 4.0 * tokens * tokens * 3072) / 1e9
    print(json.dumps({"seconds": round(seconds, 3), "gflop": round(gflop, 1), "gflops_per_s": round(gflop / seconds, 1),
                      "cpu_seconds": round(cpu, 3), "gflop_per_cpu_s": round(gflop / cpu, 1), "backend": "torch " + torch.__version__ + " float32", "threads": torch.get_num_threads(),
                      "double": a.double, "single": a.single, "image_tokens": li, "text_tokens": lt,
                      "warmup_seconds": round(warm, 3)}))


if __name__ == "__main__":
    main()

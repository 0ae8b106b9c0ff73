#!/usr/bin/python3
"""Reference vectors for @bnlab/layers, computed with PyTorch in float64.

Run from anywhere:  /usr/bin/python3 packages/layers/scripts/make_fixtures.py
Needs Debian's python3-torch (PyTorch 1.13). Writes packages/layers/test/fixtures/*.json.
Deterministic: every random draw comes from a torch.Generator seeded per case, so a rerun
rewrites identical files. The tests read the JSON only; they never need torch.

Conventions mapped from PyTorch to bnlab (Keras semantics), see shared/REFERENCES.md:
- Inputs are drawn, rounded to float32 (what the layers receive), and the reference is
  computed in float64 from those exact float32 values.
- Layouts: bnlab is channels-last (NHWC, NLC); PyTorch's batch/group/instance norm are
  channels-first, so inputs are permuted to NCHW for torch and the results permuted back.
- Epsilon is passed explicitly (bnlab/Keras default 1e-3, not torch's 1e-5).
- Batch-norm momentum: Keras m (moving = m*moving + (1-m)*batch) is torch momentum 1-m.
  torch's running_var uses the unbiased batch variance; Keras/bnlab the biased one. The
  Keras moving variance is recovered from torch's running_var (un-doing the n/(n-1) factor)
  and checked against the direct biased formula.
- Gradients: y.backward(cotangent), i.e. the gradients of sum(y * cotangent).
- Ghost batch norm splits the batch into consecutive runs of virtualBatchSize samples (the
  last may be shorter) and normalizes each with F.batch_norm; the moving statistics take the
  sample-weighted mean of the ghost means and biased variances.
- Batch renormalization (Ioffe 2017, in the Keras 2 form: separate renorm_mean/renorm_stddev
  averages with renormMomentum, sigma = sqrt(var + eps), r/d detached and clipped to
  [1/rmax, rmax] and [-dmax, dmax]) has no torch layer; it is written out with torch ops.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


# ----------------------------------------------------------------------------- helpers
def f32(t):
    """Round to float32 and back: the values the float32 layers actually see."""
    return t.float().double()


def draw(gen, shape, scale=1.0, shift=0.0):
    return f32(torch.randn(*shape, generator=gen) * scale + shift)


def per_channel_input(gen, shape, channel_axis=-1):
    """Inputs whose channels have different means and spreads, so statistics matter."""
    c = shape[channel_axis]
    bshape = [1] * len(shape)
    bshape[channel_axis] = c
    means = (torch.arange(c, dtype=torch.float64) - c / 2).reshape(bshape)
    spreads = (0.5 + torch.rand(c, generator=gen) * 2.5).reshape(bshape)
    return f32(torch.randn(*shape, generator=gen) * spreads + means)


def flat(t, digits):
    return [float(f'{v:.{digits}g}') for v in t.detach().reshape(-1).tolist()]


def inp(t):
    """A float32 input: 9 significant digits identify a float32 exactly."""
    return flat(t, 9)


def out(t):
    """A float64 reference value, to 12 significant digits (far below the test tolerance)."""
    return flat(t, 12)


def nhwc_to_nchw(x):
    return x.permute(0, x.dim() - 1, *range(1, x.dim() - 1))


def nchw_to_nhwc(x):
    return x.permute(0, *range(2, x.dim()), 1)


def affine_params(gen, shape, center, scale):
    gamma = f32(1.0 + 0.5 * torch.randn(*shape, generator=gen)) if scale else None
    beta = f32(0.5 * torch.randn(*shape, generator=gen)) if center else None
    return gamma, beta


def leaf(t):
    return None if t is None else t.clone().requires_grad_(True)


def step_record(training, x, cot, y, xg, gamma, beta):
    rec = {'training': training, 'x': inp(x), 'cotangent': inp(cot), 'y': out(y), 'dx': out(xg.grad)}
    dweights = {}
    if gamma is not None:
        dweights['gamma'] = out(gamma.grad)
    if beta is not None:
        dweights['beta'] = out(beta.grad)
    rec['dweights'] = dweights
    return rec


def initial_weights(gamma, beta, **others):
    w = {}
    if gamma is not None:
        w['gamma'] = inp(gamma)
    if beta is not None:
        w['beta'] = inp(beta)
    for k, v in others.items():
        w[k] = inp(v)
    return w


# ------------------------------------------------------------------ batch normalization
def bn_channels_first(x, axis):
    """x as torch's batch_norm wants it: channels on axis 1."""
    if axis in (1, -x.dim() + 1) or x.dim() == 2:
        return x, lambda y: y
    return nhwc_to_nchw(x), nchw_to_nhwc


def batch_case(name, seed, shape, spec, training_steps=1, center=True, scale=True, training=True, moving=None,
               make_x=None):
    gen = torch.Generator().manual_seed(seed)
    axis = spec.get('axis', -1)
    c = shape[axis]
    eps = spec.get('epsilon', 1e-3)
    m = spec.get('momentum', 0.99)
    gamma0, beta0 = affine_params(gen, [c], center, scale)
    if moving is None:
        mm0, mv0 = torch.zeros(c), torch.ones(c)
    else:
        mm0, mv0 = f32(torch.randn(c, generator=gen)), f32(0.5 + torch.rand(c, generator=gen) * 2)
    weights = initial_weights(gamma0, beta0, moving_mean=mm0, moving_variance=mv0)
    mm, mv = mm0.clone(), mv0.clone()
    steps = []
    vbs = spec.get('virtualBatchSize')
    for _ in range(training_steps if training else 1):
        x = make_x(gen, shape) if make_x else per_channel_input(gen, shape, axis)
        cot = draw(gen, shape)
        xg, gamma, beta = leaf(x), leaf(gamma0), leaf(beta0)
        xc, back = bn_channels_first(xg, axis)
        if not training:
            y = back(F.batch_norm(xc, mm, mv, gamma, beta, training=False, eps=eps))
        elif vbs is None:
            rm, rv = mm.clone(), mv.clone()
            y = back(F.batch_norm(xc, rm, rv, gamma, beta, training=True, momentum=1 - m, eps=eps))
            red = [d for d in range(xc.dim()) if d != 1]
            n = xc.numel() // c
            biased = xc.detach().var(dim=red, unbiased=False)
            # torch: rv = (1-tm)*mv + tm*unbiased; recover the batch variance and re-average it Keras's way.
            unbiased_from_torch = (rv - m * mv) / (1 - m)
            from_torch = unbiased_from_torch * (n - 1) / n
            assert torch.allclose(from_torch, biased, rtol=1e-9, atol=1e-12), name
            mm, mv = rm, m * mv + (1 - m) * from_torch
        else:
            chunks = torch.split(xc, vbs, dim=0)
            y = back(torch.cat([F.batch_norm(ch, None, None, gamma, beta, training=True, eps=eps) for ch in chunks]))
            red = [d for d in range(xc.dim()) if d != 1]
            n = xc.shape[0]
            g_mean = sum(ch.detach().mean(dim=red) * ch.shape[0] for ch in chunks) / n
            g_var = sum(ch.detach().var(dim=red, unbiased=False) * ch.shape[0] for ch in chunks) / n
            mm, mv = m * mm + (1 - m) * g_mean, m * mv + (1 - m) * g_var
        y.backward(cot)
        steps.append(step_record(training, x, cot, y, xg, gamma, beta))
    case = {'name': name, 'spec': spec, 'inputShape': shape, 'weights': weights, 'steps': steps,
            'weightsAfter': {'moving_mean': out(mm), 'moving_variance': out(mv)}}
    return case


def renorm_case(name, seed, shape, spec, training_steps):
    gen = torch.Generator().manual_seed(seed)
    c = shape[-1]
    eps = spec.get('epsilon', 1e-3)
    m = spec.get('momentum', 0.99)
    rmom = spec.get('renormMomentum', 0.99)
    clip = spec.get('renormClipping', {})
    rmax, dmax = clip.get('rmax'), clip.get('dmax')
    gamma0, beta0 = affine_params(gen, [c], True, True)
    mm, mv = torch.zeros(c), torch.ones(c)
    rmean, rstd = torch.zeros(c), torch.ones(c)
    weights = initial_weights(gamma0, beta0, moving_mean=mm, moving_variance=mv, renorm_mean=rmean,
                              renorm_stddev=rstd)
    steps = []
    red = list(range(len(shape) - 1))
    for i in range(training_steps + 1):
        training = i < training_steps
        x = per_channel_input(gen, shape)
        cot = draw(gen, shape)
        xg, gamma, beta = leaf(x), leaf(gamma0), leaf(beta0)
        if training:
            mu = xg.mean(dim=red)
            var = xg.var(dim=red, unbiased=False)
            sigma = torch.sqrt(var + eps)
            rs = torch.clamp(rstd, min=math.sqrt(eps))
            r = (sigma / rs).detach()
            d = ((mu - rmean) / rs).detach()
            if rmax is not None:
                r = torch.clamp(r, 1 / rmax, rmax)
            if dmax is not None:
                d = torch.clamp(d, -dmax, dmax)
            y = ((xg - mu) / sigma * r + d) * gamma + beta
            mu_, var_, sigma_ = mu.detach(), var.detach(), sigma.detach()
            rmean = rmean - (rmean - mu_) * (1 - rmom)
            rstd = rstd - (rstd - sigma_) * (1 - rmom)
            mm = mm - (mm - mu_) * (1 - m)
            mv = mv - (mv - var_) * (1 - m)
        else:
            y = F.batch_norm(nhwc_to_nchw(xg) if len(shape) > 2 else xg, mm, mv, gamma, beta, training=False, eps=eps)
            if len(shape) > 2:
                y = nchw_to_nhwc(y)
        y.backward(cot)
        steps.append(step_record(training, x, cot, y, xg, gamma, beta))
    return {'name': name, 'spec': spec, 'inputShape': shape, 'weights': weights, 'steps': steps,
            'weightsAfter': {'moving_mean': out(mm), 'moving_variance': out(mv), 'renorm_mean': out(rmean),
                             'renorm_stddev': out(rstd)}}


# ------------------------------------------------- layer, group and instance normalization
def stateless_case(name, seed, shape, spec, reference, param_shape, center=True, scale=True, training=True,
                   x=None):
    gen = torch.Generator().manual_seed(seed)
    gamma0, beta0 = affine_params(gen, param_shape, center, scale)
    if x is None:
        x = per_channel_input(gen, shape)
    cot = draw(gen, shape)
    xg, gamma, beta = leaf(x), leaf(gamma0), leaf(beta0)
    y = reference(xg, gamma, beta, spec.get('epsilon', 1e-3))
    y.backward(cot)
    return {'name': name, 'spec': spec, 'inputShape': shape, 'weights': initial_weights(gamma0, beta0),
            'steps': [step_record(training, x, cot, y, xg, gamma, beta)], 'weightsAfter': {}}


def layer_ref(axes):
    """torch's layer_norm normalizes trailing axes: move `axes` (sorted) to the end first."""
    def ref(x, gamma, beta, eps):
        rank = x.dim()
        ax = sorted(a % rank for a in axes)
        rest = [a for a in range(rank) if a not in ax]
        perm = rest + ax
        inv = [perm.index(a) for a in range(rank)]
        xp = x.permute(*perm)
        y = F.layer_norm(xp, [x.shape[a] for a in ax], gamma, beta, eps)
        return y.permute(*inv)
    return ref


def group_ref(groups):
    # The affine part is applied outside F.group_norm: torch 1.13's group_norm backward fails
    # ("tensor does not have a device") when only one of weight/bias is given.
    def ref(x, gamma, beta, eps):
        y = nchw_to_nhwc(F.group_norm(nhwc_to_nchw(x), groups, None, None, eps))
        if gamma is not None:
            y = y * gamma
        if beta is not None:
            y = y + beta
        return y
    return ref


def instance_ref(x, gamma, beta, eps):
    return nchw_to_nhwc(F.instance_norm(nhwc_to_nchw(x), weight=gamma, bias=beta, use_input_stats=True, eps=eps))


def layer_param_shape(shape, axes):
    rank = len(shape)
    return [shape[a % rank] for a in sorted(a % rank for a in axes)]


# ------------------------------------------------------------------------------ cases
def batch_cases():
    return [
        batch_case('batch 2-D, one training step, default momentum', 11, [6, 5], {'type': 'batch'}),
        batch_case('batch NHWC, training, momentum 0.9, epsilon 1e-5, non-trivial moving stats', 12,
                   [4, 3, 3, 4], {'type': 'batch', 'momentum': 0.9, 'epsilon': 1e-5}, moving=True),
        batch_case('batch NHWC, two training steps', 13, [3, 2, 2, 3], {'type': 'batch', 'momentum': 0.8},
                   training_steps=2),
        batch_case('batch NHWC, inference with moving stats', 14, [3, 2, 2, 4], {'type': 'batch'},
                   training=False, moving=True),
        batch_case('batch axis 1 (channels first), training', 15, [4, 3, 2, 2], {'type': 'batch', 'axis': 1}),
        batch_case('batch ghost batches of 4 in a 2-D batch of 8', 16, [8, 3],
                   {'type': 'batch', 'virtualBatchSize': 4, 'momentum': 0.9}),
        batch_case('batch ghost batches 4+4+2 (uneven), NHWC', 17, [10, 2, 2, 3],
                   {'type': 'batch', 'virtualBatchSize': 4, 'momentum': 0.9}),
        renorm_case('batch renorm, clipped r and d, two steps then inference', 18, [6, 3],
                    {'type': 'batch', 'renorm': True, 'renormClipping': {'rmax': 1.5, 'dmax': 0.5},
                     'renormMomentum': 0.9, 'momentum': 0.9}, training_steps=2),
        renorm_case('batch renorm NHWC, no clipping', 19, [3, 2, 2, 3], {'type': 'batch', 'renorm': True},
                    training_steps=2),
    ]


def layer_cases():
    cases = []
    for name, seed, shape, axis in [
        ('layer 2-D, last axis', 21, [4, 6], -1),
        ('layer NHWC, last axis (per pixel across channels)', 22, [2, 3, 3, 4], -1),
        ('layer NHWC, all non-batch axes [1, 2, 3]', 23, [2, 3, 3, 4], [1, 2, 3]),
        ('layer NHWC, spatial axes [1, 2]', 24, [2, 3, 3, 4], [1, 2]),
        ('layer 3-D, axes [-1, 1] (unsorted)', 25, [3, 4, 5], [-1, 1]),
    ]:
        axes = axis if isinstance(axis, list) else [axis]
        spec = {'type': 'layer'} if axis == -1 else {'type': 'layer', 'axis': axis}
        cases.append(stateless_case(name, seed, shape, spec, layer_ref(axes), layer_param_shape(shape, axes)))
    cases.append(stateless_case('layer NHWC, epsilon 1e-5', 26, [2, 2, 2, 3], {'type': 'layer', 'epsilon': 1e-5},
                                layer_ref([-1]), [3]))
    return cases


def group_cases():
    cases = []
    for groups, seed in [(1, 31), (2, 32), (4, 33), (8, 34)]:
        cases.append(stateless_case(f'group NHWC, {groups} group(s) of 8 channels', seed, [2, 3, 3, 8],
                                    {'type': 'group', 'groups': groups}, group_ref(groups), [8]))
    cases.append(stateless_case('group NHWC, groups -1 (one per channel)', 35, [2, 3, 3, 8],
                                {'type': 'group', 'groups': -1}, group_ref(8), [8]))
    cases.append(stateless_case('group 2-D, 2 groups', 36, [4, 8], {'type': 'group', 'groups': 2}, group_ref(2), [8]))
    cases.append(stateless_case('group 3-D (NLC), 3 groups', 37, [2, 5, 6], {'type': 'group', 'groups': 3},
                                group_ref(3), [6]))
    return cases


def instance_cases():
    return [
        stateless_case('instance NHWC', 41, [2, 3, 3, 4], {'type': 'instance'}, instance_ref, [4]),
        stateless_case('instance 3-D (NLC)', 42, [2, 5, 3], {'type': 'instance'}, instance_ref, [3]),
        stateless_case('instance NHWC, epsilon 1e-5', 43, [3, 2, 3, 2], {'type': 'instance', 'epsilon': 1e-5},
                       instance_ref, [2]),
    ]


def grid_cases():
    """Every center x scale x training combination for each layer, on one NHWC shape."""
    cases = []
    shape = [2, 2, 2, 4]
    seed = 100
    for center in (True, False):
        for scale in (True, False):
            for training in (True, False):
                flags = {'center': center, 'scale': scale}
                tag = f'center={center} scale={scale} training={training}'
                seed += 1
                cases.append(batch_case(f'batch {tag}', seed, shape, {'type': 'batch', **flags}, center=center,
                                        scale=scale, training=training, moving=True))
                seed += 1
                cases.append(stateless_case(f'layer {tag}', seed, shape, {'type': 'layer', **flags},
                                            layer_ref([-1]), [4], center, scale, training))
                seed += 1
                cases.append(stateless_case(f'group {tag}', seed, shape, {'type': 'group', 'groups': 2, **flags},
                                            group_ref(2), [4], center, scale, training))
                seed += 1
                cases.append(stateless_case(f'instance {tag}', seed, shape, {'type': 'instance', **flags},
                                            instance_ref, [4], center, scale, training))
    return cases


def stability_cases():
    """Inputs with mean 1e4 and unit spread: float32 keeps ~3 decimals of each value."""
    def big(seed, shape):
        return f32(1e4 + torch.randn(*shape, generator=torch.Generator().manual_seed(seed)))
    return [
        batch_case('stability: batch NHWC, mean 1e4', 51, [4, 3, 3, 4], {'type': 'batch'},
                   make_x=lambda gen, shape: f32(1e4 + torch.randn(*shape, generator=gen))),
        stateless_case('stability: layer 2-D, mean 1e4', 52, [4, 16], {'type': 'layer'}, layer_ref([-1]), [16],
                       x=big(152, [4, 16])),
        stateless_case('stability: layer NHWC all axes, mean 1e4', 53, [2, 4, 4, 3], {'type': 'layer', 'axis': [1, 2, 3]},
                       layer_ref([1, 2, 3]), [4, 4, 3], x=big(153, [2, 4, 4, 3])),
        stateless_case('stability: group NHWC, mean 1e4', 54, [2, 4, 4, 4], {'type': 'group', 'groups': 2},
                       group_ref(2), [4], x=big(154, [2, 4, 4, 4])),
        stateless_case('stability: instance NHWC, mean 1e4', 55, [2, 4, 4, 3], {'type': 'instance'}, instance_ref, [3],
                       x=big(155, [2, 4, 4, 3])),
    ]


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {
        'batch_norm.json': batch_cases(),
        'layer_norm.json': layer_cases(),
        'group_norm.json': group_cases(),
        'instance_norm.json': instance_cases(),
        'center_scale_training.json': grid_cases(),
        'stability.json': stability_cases(),
    }
    for fname, cases in files.items():
        doc = {'generator': 'packages/layers/scripts/make_fixtures.py',
               'reference': f'PyTorch {torch.__version__.split("a")[0].split("+")[0]}, float64',
               'cases': cases}
        with open(os.path.join(OUT, fname), 'w') as fh:
            json.dump(doc, fh, separators=(',', ':'))
            fh.write('\n')
        print(f'{fname}: {len(cases)} cases')


if __name__ == '__main__':
    main()

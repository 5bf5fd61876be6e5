#!/usr/bin/env python3
"""A PyTorch round trip: networks trained in PyTorch become hjdl models, and back.

1. An LSE layer f(x) = eps log sum_j exp((w_j . x + b_j)/eps) is trained in PyTorch on a
   regression task; its state_dict goes through NumPy into ``hjdl.Model.from_arrays``. The
   two predict the same to 1e-12, and hjdl gives what PyTorch has no notion of: the layer's
   initial data (atoms y_j = 2t w_j, g_j = -b_j - t|w_j|^2, whose Hopf–Cole solution it is)
   and the closed-form attributions (Gibbs weights, entropy, regime) of each prediction.
2. An LSE-class layer (one LSE of N neurons per class) is trained in PyTorch as a classifier
   and moved the same way; hjdl certifies l2 radii within which no perturbation changes the
   predicted class (checked here in PyTorch by random perturbations inside the balls). A
   small dense + LSE-class stack (a softplus_eps hidden layer first) moves the same way and
   gets hjdl's attributions (hjdl certifies single-readout models only).
3. The reverse: models trained by hjdl are loaded into the same PyTorch modules
   (``load_state_dict`` from ``model.layers``) and predict the same to 1e-12.

Everything is float64 on the CPU. Run: ``python3 examples/from_pytorch.py`` (PyTorch from
Debian's python3-torch, ``scripts/setup --bench``). ``main()`` returns the largest
differences; python/tests/test_pytorch.py checks them.
"""

import sys

import numpy as np

try:
    import torch
except ImportError as e:   # the test skips; run directly, say what is missing
    torch = None  # type: ignore[assignment]
    TORCH_ERROR = str(e)

import hjdl

EPS = 0.1


if torch is not None:
    torch.set_default_dtype(torch.float64)

    def softplus_eps(z, eps):
        """eps log(1 + exp(z/eps)), written exactly (torch's softplus switches to the
        identity above a threshold, an error of about eps e^-20)."""
        return eps * torch.logaddexp(z / eps, torch.zeros_like(z))

    class LSE(torch.nn.Module):
        """y = eps logsumexp((x w^T + b)/eps): hjdl's lse:N readout."""

        def __init__(self, d, N, eps):
            super().__init__()
            self.lin, self.eps = torch.nn.Linear(d, N), eps

        def forward(self, x):
            return self.eps * torch.logsumexp(self.lin(x) / self.eps, dim=-1)

    class DenseLSEClass(torch.nn.Module):
        """softplus_eps(x A^T + c) (H > 0), then one LSE of N neurons per class: hjdl's
        dense:H,lse-class:N (lse-class:N for H = 0). Class c owns the readout rows
        c*N .. c*N+N-1."""

        def __init__(self, d, H, N, C, eps):
            super().__init__()
            self.hidden = torch.nn.Linear(d, H) if H else None
            self.readout = torch.nn.Linear(H or d, C * N)
            self.N, self.C, self.eps = N, C, eps

        def forward(self, x):
            h = softplus_eps(self.hidden(x), self.eps) if self.hidden is not None else x
            z = self.readout(h).reshape(-1, self.C, self.N)
            return self.eps * torch.logsumexp(z / self.eps, dim=-1)    # (n, C) class scores


def train_torch(net, x, y, loss_fn, steps=300, lr=0.05):
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(net(X), Y)
        loss.backward()
        opt.step()
    return net


def numpy_of(t):
    return t.detach().cpu().numpy().astype(np.float64)


def torch_predict(net, x):
    with torch.no_grad():
        return numpy_of(net(torch.from_numpy(x)))


def lse_to_hjdl(net):
    """PyTorch LSE -> hjdl lse:N (the state_dict through NumPy)."""
    sd = net.state_dict()
    w, b = numpy_of(sd["lin.weight"]), numpy_of(sd["lin.bias"])
    return hjdl.Model.from_arrays(f"lse:{w.shape[0]}", net.eps, layers=[{"w": w, "b": b}])


def stack_to_hjdl(net):
    """PyTorch [dense +] LSE-class -> hjdl [dense:H,]lse-class:N."""
    sd = net.state_dict()
    layers = [{"w": numpy_of(sd["readout.weight"]), "b": numpy_of(sd["readout.bias"])}]
    arch = f"lse-class:{net.N}"
    if net.hidden is not None:
        layers.insert(0, {"w": numpy_of(sd["hidden.weight"]), "b": numpy_of(sd["hidden.bias"])})
        arch = f"dense:{net.hidden.out_features}," + arch
    return hjdl.Model.from_arrays(arch, net.eps, layers=layers)


def hjdl_to_torch(model, net, names):
    """An hjdl model's named parameters -> the PyTorch module (names: torch key per
    (layer index, hjdl name))."""
    layers = model.layers
    net.load_state_dict({key: torch.from_numpy(layers[k][p]) for (k, p), key in names.items()})
    return net


def main(quiet=False):
    say = (lambda *a: None) if quiet else print
    rng = np.random.default_rng(7)
    diffs = {}

    # ---- 1. an LSE layer, PyTorch -> hjdl ---------------------------------------------------
    x = rng.uniform(-1, 1, size=(200, 2))
    y = np.abs(x[:, 0]) + 0.5 * x[:, 1] ** 2          # convex: an LSE fits it
    torch.manual_seed(0)
    net = train_torch(LSE(2, 12, EPS), x, y, lambda p, t: ((p - t) ** 2).mean())
    m = lse_to_hjdl(net)
    diffs["lse torch->hjdl"] = float(np.abs(m.predict(x) - torch_predict(net, x)).max())
    say(f"LSE layer (12 neurons), PyTorch -> hjdl: max |difference| of predictions "
        f"{diffs['lse torch->hjdl']:.2e}")
    atoms, heights = m.initial_data()
    say(f"  its initial data: {atoms.shape[0]} atoms y_j = 2t w_j in R^2 with heights "
        f"g_j = -b_j - t|w_j|^2; e.g. y_0 = {np.round(atoms[0], 3)}, g_0 = {heights[0]:.3f}")
    hc = hjdl.hopf_cole(x[:3], atoms, heights, t=1.0, eps=EPS)["u"]
    say(f"  Hopf-Cole check f + u = |x|^2/4t: max error "
        f"{np.abs(m.predict(x[:3]) + hc - (x[:3] ** 2).sum(1) / 4).max():.1e}")
    ex = m.explain(x[:3], top=2)
    for i in range(3):
        say(f"  x = {np.round(x[i], 2)}: entropy {ex['entropy'][i]:.3f}, "
            f"{hjdl.REGIMES[ex['regime'][i]]}, atoms {ex['atoms'][i].tolist()} with weights "
            f"{np.round(ex['pi'][i], 3).tolist()}")

    # ---- 2. LSE-class layer with certificates, dense + LSE-class stack, PyTorch -> hjdl ----
    xc = rng.normal(size=(240, 2))
    yc = (np.arctan2(xc[:, 1], xc[:, 0]) > 0).astype(np.int64) + (xc[:, 0] > 1).astype(np.int64)
    xent = lambda F, t: torch.nn.functional.cross_entropy(F, t)   # noqa: E731
    torch.manual_seed(1)
    clf = train_torch(DenseLSEClass(2, 0, 4, 3, EPS), xc, yc, xent)
    mc = stack_to_hjdl(clf)
    diffs["lse-class torch->hjdl"] = float(np.abs(mc.predict(xc) - torch_predict(clf, xc)).max())
    acc = float((mc.predict_class(xc) == yc).mean())
    say(f"lse-class:4 (3 classes), PyTorch -> hjdl: max |difference| of class scores "
        f"{diffs['lse-class torch->hjdl']:.2e} (training accuracy {acc:.3f})")
    torch.manual_seed(2)
    stack = train_torch(DenseLSEClass(2, 8, 4, 3, EPS), xc, yc, xent)
    ms = stack_to_hjdl(stack)
    diffs["stack torch->hjdl"] = float(np.abs(ms.predict(xc) - torch_predict(stack, xc)).max())
    ex = ms.explain(xc[:1], top=2)
    say(f"dense:8,lse-class:4, PyTorch -> hjdl: max |difference| of class scores "
        f"{diffs['stack torch->hjdl']:.2e}; at x = {np.round(xc[0], 2)} the predicted class's "
        f"readout is {hjdl.REGIMES[ex['regime'][0]]} (entropy {ex['entropy'][0]:.3f}, atoms "
        f"{ex['atoms'][0].tolist()})")
    cert = mc.certify(xc[:5])
    flips = 0
    for i in range(5):             # random perturbations inside the certified ball
        r = cert["radius"][i]
        u = rng.normal(size=(500, 2))
        u *= (0.999 * r * rng.uniform(size=(500, 1)) ** 0.5) / np.linalg.norm(u, axis=1,
                                                                                 keepdims=True)
        pred = np.argmax(torch_predict(clf, xc[i] + u), axis=1)
        flips += int((pred != cert["cls"][i]).sum())
        say(f"  x = {np.round(xc[i], 2)}: class {cert['cls'][i]}, certified l2 radius {r:.3f}")
    say(f"  PyTorch's predictions at 2500 random points inside the certified balls: "
        f"{flips} changes of class")
    diffs["certificate flips"] = flips

    # ---- 3. hjdl -> PyTorch ---------------------------------------------------------------
    mh = hjdl.Model("lse:12", eps=EPS).fit(x, y, iters=300, lr=0.05)
    back = hjdl_to_torch(mh, LSE(2, 12, EPS), {(0, "w"): "lin.weight", (0, "b"): "lin.bias"})
    diffs["lse hjdl->torch"] = float(np.abs(mh.predict(x) - torch_predict(back, x)).max())
    mhc = hjdl.Model("dense:8,lse-class:4", eps=EPS).fit(xc, yc, iters=300, lr=0.05)
    backc = hjdl_to_torch(mhc, DenseLSEClass(2, 8, 4, 3, EPS),
                          {(0, "w"): "hidden.weight", (0, "b"): "hidden.bias",
                           (1, "w"): "readout.weight", (1, "b"): "readout.bias"})
    diffs["stack hjdl->torch"] = float(np.abs(mhc.predict(xc) - torch_predict(backc, xc)).max())
    say(f"hjdl -> PyTorch: max |difference| {diffs['lse hjdl->torch']:.2e} (lse:12), "
        f"{diffs['stack hjdl->torch']:.2e} (dense:8,lse-class:4)")
    return diffs


if __name__ == "__main__":
    if torch is None:
        print(f"from_pytorch.py needs PyTorch ({TORCH_ERROR}); on Debian: python3-torch "
              f"(scripts/setup --bench)", file=sys.stderr)
        sys.exit(2)
    d = main()
    worst = max(v for k, v in d.items() if k != "certificate flips")
    sys.exit(0 if worst <= 1e-12 and d["certificate flips"] == 0 else 1)

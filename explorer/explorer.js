/* explorer.js — the explorer page. Plain JavaScript, no framework, no network.
 * Every number shown comes from libhjdl (hjdl-wasm.js, built by `make explorer`
 * from explorer/wasm/explorer_api.c and the library sources). Numbers the
 * browser test compares with the CLI are exposed as data-v attributes holding
 * the shortest round-trip decimal of the double (String(v)). */
'use strict';

let M = null;     /* the wasm module */
let MSG = 0;      /* error-message buffer in the wasm heap */

/* ---- wasm calls ---------------------------------------------------------------------- */
class HjError extends Error {}
class Frame {     /* heap buffers of one call, freed together */
  constructor() { this.ptrs = []; }
  alloc(bytes) { const p = M._malloc(Math.max(8, bytes)); this.ptrs.push(p); return p; }
  f64(a) { const p = this.alloc(8 * a.length); M.HEAPF64.set(a, p >> 3); return p; }
  out(n) { return this.alloc(8 * n); }
  i32(n) { return this.alloc(4 * n); }
  str(s) { const n = M.lengthBytesUTF8(s) + 1, p = this.alloc(n); M.stringToUTF8(s, p, n); return p; }
  rd(p, n) { return Float64Array.from(M.HEAPF64.subarray(p >> 3, (p >> 3) + n)); }
  ri(p, n) { return Int32Array.from(M.HEAP32.subarray(p >> 2, (p >> 2) + n)); }
  free() { this.ptrs.forEach(p => M._free(p)); this.ptrs = []; }
}
function check(rc) { if (rc !== 0) throw new HjError(M.UTF8ToString(MSG)); }
function count(rc) { if (rc < 0) throw new HjError(M.UTF8ToString(MSG)); return rc; }
function withFrame(f) { const F = new Frame(); try { return f(F); } finally { F.free(); } }

/* ---- state ----------------------------------------------------------------------------- */
const S = {
  d: 1, eps: 0.1, t: 0.5,
  atoms: {
    1: [{ y: [-1.0], g: 0.0 }, { y: [0.5], g: 0.2 }, { y: [1.5], g: -0.1 }],
    2: [{ y: [-1, -0.6], g: 0 }, { y: [-0.4, 0.9], g: 0.1 }, { y: [0.8, 0.2], g: -0.1 },
        { y: [1.3, -0.9], g: 0.2 }, { y: [0.1, -0.2], g: 0.3 }],
  },
  cursor: { 1: [0.3], 2: [0.2, 0.1] },
  bif: null, bifKey: '', crit: null, basins: null,
};
const EXAMPLE = JSON.stringify(S.atoms);
const atoms = () => S.atoms[S.d];
function flatAtoms() {
  const A = atoms(), d = S.d, y = new Float64Array(A.length * d), g = new Float64Array(A.length);
  A.forEach((a, j) => { for (let c = 0; c < d; c++) y[j * d + c] = a.y[c]; g[j] = a.g; });
  return { N: A.length, y, g };
}
const $ = id => document.getElementById(id);
const fmt = v => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(8)) : String(v));

/* a table of (label, key, value) rows; value exposed exactly in data-v */
function table(id, rows) {
  $(id).innerHTML = rows.map(([label, key, v, shown]) =>
    `<tr><td>${label}</td><td data-q="${key}" data-v="${Array.isArray(v) ? v.map(String).join(',') : String(v)}">` +
    `${shown !== undefined ? shown : Array.isArray(v) ? v.map(fmt).join(', ') : fmt(v)}</td></tr>`).join('');
}

/* ---- library wrappers ------------------------------------------------------------------ */
function libSolve(xs, n) {          /* rows u, f, resid, H, u0, grad */
  const { N, y, g } = flatAtoms(), d = S.d, st = 5 + d;
  return withFrame(F => {
    const o = F.out(n * st);
    check(M._ex_solve(N, d, F.f64(y), F.f64(g), S.t, S.eps, n, F.f64(xs), o, MSG));
    return F.rd(o, n * st);
  });
}
function libPoint(x, K) {
  const { N, y, g } = flatAtoms(), d = S.d;
  return withFrame(F => {
    const pi = F.out(N), ab = F.out(N), lo = F.out(N * d), su = F.out(7), tp = F.out(2 * K);
    check(M._ex_point(N, d, F.f64(y), F.f64(g), S.t, S.eps, F.f64(x), K, pi, ab, lo, su, tp, MSG));
    return { pi: F.rd(pi, N), abl: F.rd(ab, N), loo: F.rd(lo, N * d), sum: F.rd(su, 7), top: F.rd(tp, 2 * K) };
  });
}
function libDomain(pad) {
  const { N, y, g } = flatAtoms(), d = S.d;
  return withFrame(F => {
    const lo = F.out(d), hi = F.out(d);
    check(M._ex_domain(N, d, F.f64(y), F.f64(g), S.t, pad, lo, hi, MSG));
    return { lo: Array.from(F.rd(lo, d)), hi: Array.from(F.rd(hi, d)) };
  });
}
function libMap(dom, n) {
  const { N, y, g } = flatAtoms(), d = S.d, np = d === 1 ? n : n * n;
  return withFrame(F => {
    const H = F.out(np);
    check(M._ex_landscape_map(N, d, F.f64(y), F.f64(g), S.t, S.eps, F.f64(dom.lo), F.f64(dom.hi), n, H, MSG));
    return F.rd(H, np);
  });
}
function libCritical() {
  const { N, y, g } = flatAtoms(), d = S.d, cap = 4096;
  return withFrame(F => {
    const x = F.out(cap * d), H = F.out(cap), ix = F.i32(cap);
    const n = Math.min(cap, count(M._ex_critical(N, d, F.f64(y), F.f64(g), S.t, S.eps, cap, x, H, ix, MSG)));
    const X = F.rd(x, n * d), HH = F.rd(H, n), I = F.ri(ix, n), out = [];
    for (let k = 0; k < n; k++) out.push({ x: Array.from(X.subarray(k * d, k * d + d)), H: HH[k], index: I[k] });
    return out;
  });
}
function libBasins(dom, n) {
  const { N, y, g } = flatAtoms(), d = S.d, np = d === 1 ? n : n * n;
  return withFrame(F => {
    const lab = F.i32(np);
    const nb = count(M._ex_basins(N, d, F.f64(y), F.f64(g), S.t, S.eps, F.f64(dom.lo), F.f64(dom.hi), n, lab, MSG));
    return { n, nb, label: F.ri(lab, np) };
  });
}
function libBifurcation() {
  const { N, y, g } = flatAtoms(), d = S.d, pcap = 200000, fcap = 1000;
  return withFrame(F => {
    const pts = F.out(pcap * (d + 4)), fl = F.out(fcap * (d + 6)), info = F.out(4);
    check(M._ex_bifurcation(N, d, F.f64(y), F.f64(g), S.t, pcap, pts, fcap, fl, info, MSG));
    const I = F.rd(info, 4), np = Math.min(pcap, I[0]), nf = Math.min(fcap, I[1]);
    return { d, np, nf, epsMin: I[2], epsMax: I[3], pts: F.rd(pts, np * (d + 4)), folds: F.rd(fl, nf * (d + 6)) };
  });
}
function writeFile(path, bytes) { try { M.FS.mkdir('/in'); } catch (e) { /* exists */ } M.FS.writeFile(path, bytes); }

/* ---- models (training and certificates) ------------------------------------------------ */
class Model {
  constructor(ptr) { this.p = ptr; }
  static create(spec, d, nClasses, eps, t, seed) {
    const p = withFrame(F => M._ex_model_new(F.str(spec), d, nClasses, eps, t, seed, MSG));
    if (!p) throw new HjError(M.UTF8ToString(MSG));
    return new Model(p);
  }
  static load(path) {
    const p = withFrame(F => M._ex_model_load(F.str(path), MSG));
    if (!p) throw new HjError(M.UTF8ToString(MSG));
    return new Model(p);
  }
  free() { if (this.p) M._ex_model_free(this.p); this.p = 0; }
  info() {
    return withFrame(F => { const o = F.out(7); M._ex_model_info(this.p, o); const I = F.rd(o, 7);
      return { dRaw: I[0], nClasses: I[1], N: I[2], dim: I[3], eps: I[4], layers: I[5], t: I[6] }; });
  }
  fitAuto(x, y, n, nVal, iters, lr, grid) {
    return withFrame(F => { const c = F.out(grid.length + 1);
      check(M._ex_model_fit_auto(this.p, F.f64(x), F.f64(y), n, nVal, iters, lr, 1, F.f64(grid), grid.length, c, MSG));
      return F.rd(c, grid.length + 1); });
  }
  train(x, y, n, iters, lr) {
    return withFrame(F => { const L = F.out(iters);
      check(M._ex_model_train(this.p, F.f64(x), F.f64(y), n, iters, lr, L, MSG)); return F.rd(L, iters); });
  }
  atoms() {
    const I = this.info();
    return withFrame(F => { const y = F.out(I.N * I.dim), g = F.out(I.N);
      check(M._ex_model_atoms(this.p, y, g, MSG)); return { N: I.N, dim: I.dim, y: F.rd(y, I.N * I.dim), g: F.rd(g, I.N) }; });
  }
  predict(x, n, nOut) {
    return withFrame(F => { const o = F.out(n * nOut);
      check(M._ex_model_predict(this.p, F.f64(x), n, o, MSG)); return F.rd(o, n * nOut); });
  }
  certify(x, n) {
    return withFrame(F => { const o = F.out(4 * n);
      check(M._ex_certify(this.p, F.f64(x), n, o, MSG)); return F.rd(o, 4 * n); });
  }
  curvature(block) {
    return withFrame(F => { const o = F.out(4); check(M._ex_curvature(this.p, block, o, MSG)); return F.rd(o, 4); });
  }
  text() {
    const path = '/in/export.hjm';
    writeFile(path, '');
    withFrame(F => check(M._ex_model_save(this.p, F.str(path), MSG)));
    return M.FS.readFile(path, { encoding: 'utf8' });
  }
}

/* ---- plotting ---------------------------------------------------------------------------- */
class Plot {
  constructor(canvas, xr, yr, pad = [44, 12, 10, 24]) {   /* left, right, top, bottom */
    this.c = canvas; this.ctx = canvas.getContext('2d'); this.xr = xr; this.yr = yr; this.pad = pad;
    this.W = canvas.width - pad[0] - pad[1]; this.H = canvas.height - pad[2] - pad[3];
  }
  X(x) { return this.pad[0] + (x - this.xr[0]) / (this.xr[1] - this.xr[0]) * this.W; }
  Y(y) { return this.pad[2] + (1 - (y - this.yr[0]) / (this.yr[1] - this.yr[0])) * this.H; }
  ix(px) { return this.xr[0] + (px - this.pad[0]) / this.W * (this.xr[1] - this.xr[0]); }
  iy(py) { return this.yr[0] + (1 - (py - this.pad[2]) / this.H) * (this.yr[1] - this.yr[0]); }
  clear() { this.ctx.clearRect(0, 0, this.c.width, this.c.height); }
  axes(xlabel, ylabel, xlog) {
    const c = this.ctx; c.save(); c.strokeStyle = '#999'; c.fillStyle = '#555'; c.font = '11px sans-serif';
    c.strokeRect(this.pad[0], this.pad[2], this.W, this.H);
    for (let k = 0; k <= 4; k++) {
      const x = this.xr[0] + (this.xr[1] - this.xr[0]) * k / 4, y = this.yr[0] + (this.yr[1] - this.yr[0]) * k / 4;
      c.fillText(xlog ? (10 ** x).toPrecision(2) : x.toPrecision(3), this.X(x) - 12, this.c.height - 8);
      c.fillText(y.toPrecision(3), 2, this.Y(y) + 4);
    }
    c.fillText(xlabel, this.pad[0] + this.W - 40, this.pad[2] + this.H - 4);
    c.fillText(ylabel, this.pad[0] + 4, this.pad[2] + 12);
    c.restore();
  }
  line(xs, ys, color, width = 1.5, dash = []) {
    const c = this.ctx; c.save(); c.beginPath(); c.rect(this.pad[0], this.pad[2], this.W, this.H); c.clip();
    c.strokeStyle = color; c.lineWidth = width; c.setLineDash(dash); c.beginPath();
    for (let i = 0; i < xs.length; i++) (i ? c.lineTo : c.moveTo).call(c, this.X(xs[i]), this.Y(ys[i]));
    c.stroke(); c.restore();
  }
  band(xs, lo, hi, color) {
    const c = this.ctx; c.save(); c.beginPath(); c.rect(this.pad[0], this.pad[2], this.W, this.H); c.clip();
    c.fillStyle = color; c.beginPath();
    for (let i = 0; i < xs.length; i++) (i ? c.lineTo : c.moveTo).call(c, this.X(xs[i]), this.Y(hi[i]));
    for (let i = xs.length - 1; i >= 0; i--) c.lineTo(this.X(xs[i]), this.Y(lo[i]));
    c.fill(); c.restore();
  }
  dot(x, y, color, r = 4, shape = 'o') {
    const c = this.ctx, X = this.X(x), Y = this.Y(y); c.save(); c.fillStyle = color; c.strokeStyle = color; c.lineWidth = 2;
    c.beginPath();
    if (shape === 'v') { c.moveTo(X - r, Y - r); c.lineTo(X + r, Y - r); c.lineTo(X, Y + r); c.fill(); }
    else if (shape === '^') { c.moveTo(X - r, Y + r); c.lineTo(X + r, Y + r); c.lineTo(X, Y - r); c.fill(); }
    else if (shape === 'x') { c.moveTo(X - r, Y - r); c.lineTo(X + r, Y + r); c.moveTo(X + r, Y - r); c.lineTo(X - r, Y + r); c.stroke(); }
    else { c.arc(X, Y, r, 0, 2 * Math.PI); c.fill(); }
    c.restore();
  }
  vline(x, color) { this.line([x, x], this.yr, color, 1, [4, 3]); }
}
const KIND = i => (i === 0 ? ['#0a8a3a', 'v', 'minimum'] : i === S.d ? ['#c0262d', '^', 'maximum'] : i < 0 ? ['#999', 'o', 'degenerate'] : ['#555', 'x', 'saddle']);
function range(vals, padFrac = 0.08) {
  let lo = Infinity, hi = -Infinity;
  for (const v of vals) if (isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!(hi > lo)) { lo -= 1; hi += 1; }
  const p = (hi - lo) * padFrac; return [lo - p, hi + p];
}
function heatColor(v) {   /* v in [0, 1] -> a blue-yellow map */
  const r = Math.round(255 * Math.min(1, Math.max(0, 1.6 * v - 0.3))), gg = Math.round(255 * Math.min(1, 0.2 + 0.8 * v)),
    b = Math.round(255 * Math.max(0, 0.75 - 0.7 * v));
  return [r, gg, b];
}

/* ---- view 1: the four views of one eps ------------------------------------------------- */
const NS = 241;
let solvePlot = null;
function drawSolve(dom) {
  const d = S.d, cur = S.cursor[d], xs = [], pts = new Float64Array(NS * d);
  for (let i = 0; i < NS; i++) {
    const x = dom.lo[0] + (dom.hi[0] - dom.lo[0]) * i / (NS - 1); xs.push(x);
    pts[i * d] = x; if (d === 2) pts[i * d + 1] = cur[1];
  }
  const R = libSolve(pts, NS), st = 5 + d, N = atoms().length, band = S.eps * Math.log(N);
  const u = [], f = [], q = [], u0 = [], lo = [];
  for (let i = 0; i < NS; i++) {
    u.push(R[i * st]); f.push(R[i * st + 1]); u0.push(R[i * st + 4]); lo.push(R[i * st + 4] - band);
    q.push(R[i * st + 1] + R[i * st] - R[i * st + 2]);
  }
  const ys = u.concat(f, u0, lo, d === 1 ? atoms().map(a => a.g) : []);
  const P = solvePlot = new Plot($('cv-solve'), [dom.lo[0], dom.hi[0]], range(ys));
  P.clear(); P.band(xs, lo, u0, 'rgba(0,0,0,0.08)');
  P.line(xs, q, '#888', 1, [2, 3]); P.line(xs, u0, '#000', 1.2, [6, 3]);
  P.line(xs, f, '#d9711c', 2); P.line(xs, u, '#1f5fbf', 2);
  if (d === 1) atoms().forEach(a => P.dot(a.y[0], a.g, '#b0186b', 5));
  P.vline(cur[0], '#b0186b'); P.axes(d === 1 ? 'x' : 'x₁ (x₂ = cursor)', 'value');
  /* the cursor itself */
  const C = libSolve(Float64Array.from(cur), 1);
  const grad = Array.from(C.subarray(5, 5 + d));
  table('cursor-values', [
    ['cursor x', 'x', cur],
    ['u_ε(x, t)', 'u', C[0]], ['f_ε(x) (LSE layer)', 'f', C[1]],
    ['residual f_ε + u_ε − |x|²/(4t)', 'resid', C[2]],
    ['entropy H(π)', 'entropy', C[3]], ['∇u_ε', 'grad', grad],
    ['u_0 (Hopf–Lax)', 'u0', C[4]],
    ['u_0 − ε log N ≤ u_ε ≤ u_0', 'band', (C[4] - band <= C[0] && C[0] <= C[4]) ? 1 : 0,
      (C[4] - band <= C[0] && C[0] <= C[4]) ? 'holds' : 'VIOLATED'],
  ]);
}

/* ---- view 2: attribution ---------------------------------------------------------------- */
function drawAttribution() {
  const A = atoms(), N = A.length, d = S.d, K = Math.min(N, 5), cur = S.cursor[d];
  const R = libPoint(Float64Array.from(cur), K);
  const c = $('cv-pi'), ctx = c.getContext('2d'); ctx.clearRect(0, 0, c.width, c.height);
  const bw = (c.width - 50) / N, maxp = Math.max(...R.pi, 1e-300);
  ctx.fillStyle = '#555'; ctx.font = '11px sans-serif'; ctx.fillText('π_j', 4, 12); ctx.fillText(maxp.toPrecision(3), 4, 26);
  for (let j = 0; j < N; j++) {
    const h = (c.height - 30) * R.pi[j] / maxp; ctx.fillStyle = '#1f5fbf';
    ctx.fillRect(44 + j * bw, c.height - 14 - h, Math.max(1, bw - 1), h);
    if (N <= 30) { ctx.fillStyle = '#555'; ctx.fillText(String(j), 44 + j * bw + bw / 2 - 3, c.height - 2); }
  }
  const es = M._ex_critical_eps(N, d), regime = M.UTF8ToString(M._ex_regime_name(R.sum[2]));
  table('attr-values', [
    ['entropy H', 'H', R.sum[0]], ['n_eff = exp H', 'n_eff', R.sum[1]],
    ['regime', 'regime', R.sum[2], regime], ['ε* = N^(−1/d)', 'eps_star', es],
    ['ε / ε*', 'eps_ratio', S.eps / es],
  ]);
  table('convex-values', [
    ['Φ(π) (the maximum)', 'phi_pi', R.sum[4]], ['−u_ε', 'minus_u', -R.sum[3]],
    ['Φ(uniform)', 'phi_uniform', R.sum[5]], ['Φ(vertex of the largest a_j)', 'phi_vertex', R.sum[6]],
  ]);
  let rows = '<tr><th>atom</th><th>π</th><th>leave-one-out Δ E_π[y]</th><th>ablation Δu = u₋ₖ − u</th></tr>';
  for (let k = 0; k < K; k++) {
    const j = R.top[k], p = R.top[K + k], loo = Array.from(R.loo.subarray(j * d, j * d + d));
    rows += `<tr data-atom="${j}" data-pi="${p}" data-abl="${R.abl[j]}" data-loo="${loo.join(',')}">` +
      `<td>${j}</td><td>${fmt(p)}</td><td>${loo.map(fmt).join(', ')}</td><td>${fmt(R.abl[j])}</td></tr>`;
  }
  $('attr-top').innerHTML = rows;
}

/* ---- view 3: the landscape -------------------------------------------------------------- */
const NMAP = 80, NB = 64;
let landPlot = null;
/* The map at n nodes per side: a slider move draws it coarse enough that N n^2 stays below
 * MAP_BUDGET logits (smooth dragging with many atoms); the idle pass redraws it at NMAP. */
const MAP_BUDGET = 300000;
const fastMapSize = () => Math.max(24, Math.min(NMAP, Math.floor(Math.sqrt(MAP_BUDGET / atoms().length))));
function drawLandscape(dom, nmap = NMAP) {
  const d = S.d, cv = $('cv-land');
  if (!(S.eps > 0)) {
    const ctx = cv.getContext('2d'); ctx.clearRect(0, 0, cv.width, cv.height);
    ctx.fillText('H(x; ε) is defined for ε > 0 (at ε = 0 the weights are uniform on the arg-max set)', 20, 40);
    landPlot = null; return;
  }
  const NM = d === 2 ? nmap : NMAP, H = libMap(dom, NM), logN = Math.log(atoms().length), ar = atoms().length > 50 ? 2.5 : 4;
  let hmin = Infinity, hmax = -Infinity;
  for (const v of H) { hmin = Math.min(hmin, v); hmax = Math.max(hmax, v); }
  $('land-scale').textContent = d === 2 ? `colour: H from ${fmt(hmin)} (dark) to ${fmt(hmax)} (bright); log N = ${fmt(logN)}` : '';
  if (d === 2) {
    const P = landPlot = new Plot(cv, [dom.lo[0], dom.hi[0]], [dom.lo[1], dom.hi[1]]);
    P.clear();
    const img = P.ctx.createImageData(NM, NM);
    for (let i = 0; i < NM; i++) for (let j = 0; j < NM; j++) {
      const [r, g, b] = heatColor(hmax > hmin ? (H[i * NM + j] - hmin) / (hmax - hmin) : 0), p = ((NM - 1 - j) * NM + i) * 4;
      img.data[p] = r; img.data[p + 1] = g; img.data[p + 2] = b; img.data[p + 3] = 255;
    }
    const off = document.createElement('canvas'); off.width = off.height = NM; off.getContext('2d').putImageData(img, 0, 0);
    P.ctx.imageSmoothingEnabled = true; P.ctx.drawImage(off, P.pad[0], P.pad[2], P.W, P.H);
    if (S.basins && $('show-basins').checked) drawBasins2(P, dom);
    atoms().forEach(a => P.dot(a.y[0], a.y[1], '#b0186b', ar));
    P.dot(S.cursor[2][0], S.cursor[2][1], '#fff', 3);
    P.axes('x₁', 'x₂');
  } else {
    const xs = []; for (let i = 0; i < NMAP; i++) xs.push(dom.lo[0] + (dom.hi[0] - dom.lo[0]) * i / (NMAP - 1));
    const P = landPlot = new Plot(cv, [dom.lo[0], dom.hi[0]], [0, Math.max(logN, 1e-3) * 1.05]);
    P.clear();
    if (S.basins && $('show-basins').checked) {
      const B = S.basins, c = P.ctx, xa = i => dom.lo[0] + (dom.hi[0] - dom.lo[0]) * Math.min(B.n - 1, Math.max(0, i - 0.5)) / (B.n - 1);
      for (let i = 0; i < B.n;) {   /* one band per run of equal labels */
        let k = i; while (k < B.n && B.label[k] === B.label[i]) k++;
        const l = B.label[i];
        c.fillStyle = l === 0 ? 'rgba(0,0,0,0.06)' : `hsla(${(l * 67) % 360},60%,60%,0.25)`;
        c.fillRect(P.X(xa(i)), P.pad[2], P.X(xa(k)) - P.X(xa(i)), P.H);
        i = k;
      }
    }
    P.line(xs, Array.from(H), '#1f5fbf', 2); P.line(dom.lo.concat(dom.hi), [logN, logN], '#aaa', 1, [3, 3]);
    atoms().forEach(a => P.dot(a.y[0], 0.02 * logN, '#b0186b', 4));
    P.vline(S.cursor[1][0], '#b0186b'); P.axes('x', 'H(x; ε)');
  }
  if (S.crit) S.crit.forEach(p => { const [col, sh] = KIND(p.index); landPlot.dot(p.x[0], d === 2 ? p.x[1] : p.H, col, 6, sh); });
}
function drawBasins2(P, dom) {
  const B = S.basins, n = B.n, c = P.ctx, cw = P.W / (n - 1), ch = P.H / (n - 1);
  c.save(); c.fillStyle = 'rgba(255,255,255,0.85)';
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const l = B.label[i * n + j];
    const edge = (i + 1 < n && B.label[(i + 1) * n + j] !== l) || (j + 1 < n && B.label[i * n + j + 1] !== l);
    if (edge) {
      const x = dom.lo[0] + (dom.hi[0] - dom.lo[0]) * i / (n - 1), y = dom.lo[1] + (dom.hi[1] - dom.lo[1]) * j / (n - 1);
      c.fillRect(P.X(x) - 1, P.Y(y) - 1, Math.max(2, cw / 3), Math.max(2, ch / 3));
    }
  }
  c.restore();
}
function critTable() {
  const d = S.d;
  if (!S.crit) { $('crit-list').innerHTML = ''; return; }
  let rows = `<tr><th>critical point x</th><th>H</th><th>type</th></tr>`;
  S.crit.forEach(p => {
    rows += `<tr class="crit" data-x="${p.x.join(',')}" data-h="${p.H}" data-index="${p.index}">` +
      `<td>${p.x.map(fmt).join(', ')}</td><td>${fmt(p.H)}</td><td>${KIND(p.index)[2]}</td></tr>`;
  });
  $('crit-list').innerHTML = rows + (S.basins ? `<tr><td colspan="3" data-q="basins" data-v="${S.basins.nb}">${S.basins.nb} basin${S.basins.nb === 1 ? '' : 's'} of −∇H on a ${NB}${d === 2 ? '×' + NB : ''} grid</td></tr>` : '');
}
const bifKey = () => JSON.stringify([S.d, atoms(), S.t]);
function drawBifurcation() {
  const B = S.bif && S.bif.key === bifKey() ? S.bif : null, cv = $('cv-bif');
  if (!B) { cv.getContext('2d').clearRect(0, 0, cv.width, cv.height); return; }
  const d = B.d, st = d + 4, fs = d + 6, Hs = [];
  for (let k = 0; k < B.np; k++) Hs.push(B.pts[k * st + d + 1]);
  const P = new Plot(cv, [Math.log10(B.epsMin), Math.log10(B.epsMax)], range(Hs));
  P.clear();
  for (let k = 0; k < B.np; k++) {
    const [col] = KIND(B.pts[k * st + d + 2]);
    P.ctx.fillStyle = col; P.ctx.fillRect(P.X(Math.log10(B.pts[k * st])) - 1, P.Y(B.pts[k * st + d + 1]) - 1, 2, 2);
  }
  let rows = '<tr><th>fold ε</th><th>x</th><th>H</th><th>type</th><th>direction</th><th>check</th></tr>';
  for (let k = 0; k < B.nf; k++) {
    const r = B.folds.subarray(k * fs, k * fs + fs);
    P.dot(Math.log10(r[0]), r[d + 1], '#000', 5, 'o');
    rows += `<tr class="fold" data-eps="${r[0]}" data-x="${Array.from(r.subarray(1, 1 + d)).join(',')}" data-h="${r[d + 1]}" ` +
      `data-type="${r[d + 2]}" data-dir="${r[d + 3]}"><td>${fmt(r[0])}</td><td>${Array.from(r.subarray(1, 1 + d)).map(fmt).join(', ')}</td>` +
      `<td>${fmt(r[d + 1])}</td><td>${r[d + 2]}</td><td>${r[d + 3] < 0 ? 'annihilates' : 'is born'} as ε grows</td><td>${r[d + 5] ? 'ok' : 'FAILED'}</td></tr>`;
  }
  $('fold-list').innerHTML = B.nf ? rows : '<tr><td>no folds in [ε*/25, 25 ε*]</td></tr>';
  if (S.eps > 0) P.vline(Math.log10(Math.min(Math.max(S.eps, B.epsMin), B.epsMax)), '#b0186b');
  P.axes('ε (log)', 'H at critical points', true);
}

/* ---- redraw, with the deferred (slower) landscape computations --------------------------- */
const LAND_AUTO_MAX = 60, BIF_AUTO_MAX = 40;
let landTimer = 0, bifTimer = 0;
window.__redrawMs = [];
function redraw() {
  const t0 = performance.now();
  try {
    const dom = libDomain(0.5);
    const parts = [performance.now()];
    drawSolve(dom); parts.push(performance.now());
    drawAttribution(); parts.push(performance.now());
    drawLandscape(dom, fastMapSize()); parts.push(performance.now());
    drawBifurcation(); exportAtoms(); parts.push(performance.now());
    window.__redrawParts = parts.slice(1).map((v, i) => v - parts[i]);
  } catch (e) { showStatus(e); return; }
  const ms = performance.now() - t0;
  window.__redrawMs.push(ms); $('perf').textContent = ms.toFixed(1); $('perf').dataset.v = String(ms);
  scheduleLandscape();
}
function scheduleLandscape() {
  clearTimeout(landTimer); S.crit = null; S.basins = null; critTable();
  document.body.dataset.landscape = 'pending';
  const N = atoms().length;
  if (!(S.eps > 0)) { $('land-msg').textContent = ''; document.body.dataset.landscape = 'done'; }
  else landTimer = setTimeout(() => {   /* idle: full-resolution map, critical points, basins */
    const t0 = performance.now();
    try {
      const dom = libDomain(0.5);
      if (N <= LAND_AUTO_MAX) { S.crit = libCritical(); S.basins = libBasins(dom, NB); $('land-msg').textContent = ''; }
      else $('land-msg').textContent = `critical points and basins are computed automatically for N ≤ ${LAND_AUTO_MAX} atoms`;
      drawLandscape(dom); critTable();
    } catch (e) { $('land-msg').textContent = e.message; }
    window.__idleMs = performance.now() - t0;
    document.body.dataset.landscape = 'done';
  }, 60);
  const key = bifKey();
  if (key !== S.bifKey) {
    clearTimeout(bifTimer); S.bifKey = key; S.bif = null; drawBifurcation(); $('fold-list').innerHTML = '';
    if (N > BIF_AUTO_MAX) { $('fold-list').innerHTML = `<tr><td>the diagram is traced automatically for N ≤ ${BIF_AUTO_MAX} atoms</td></tr>`; document.body.dataset.bifurcation = 'done'; return; }
    document.body.dataset.bifurcation = 'pending';
    bifTimer = setTimeout(() => {
      try { S.bif = libBifurcation(); S.bif.key = key; drawBifurcation(); }
      catch (e) { $('fold-list').innerHTML = `<tr><td class="msg">${e.message}</td></tr>`; }
      document.body.dataset.bifurcation = 'done';
    }, 120);
  }
}
function showStatus(e) { $('status').textContent = e.message || String(e); $('status').className = 'msg'; console.warn(e); }

/* ---- controls ------------------------------------------------------------------------------ */
const epsFromSlider = v => (v <= 0 ? 0 : 10 ** (-4 + 6 * (v - 1) / 999));
const sliderFromEps = e => (e <= 0 ? 0 : Math.min(1000, Math.max(1, 1 + Math.round(999 * (Math.log10(e) + 4) / 6))));
const tFromSlider = v => 10 ** (-2 + 4 * v / 1000);
const sliderFromT = t => Math.min(1000, Math.max(0, Math.round(1000 * (Math.log10(t) + 2) / 4)));
function parseNum(text, what, ok, rule) {
  const s = text.trim(), v = Number(s);
  if (s === '' || !Number.isFinite(v) || !ok(v)) throw new Error(`${what} must be ${rule} (got '${text}')`);
  return v;
}
function bindNumber(slider, text, msg, what, ok, rule, fromS, toS, set) {
  $(slider).addEventListener('input', () => {
    const v = fromS(Number($(slider).value)); set(v); $(text).value = String(v); $(msg).textContent = ''; redraw();
  });
  $(text).addEventListener('change', () => {
    try {
      const v = parseNum($(text).value, what, ok, rule);
      set(v); $(slider).value = toS(v); $(msg).textContent = ''; redraw();
    } catch (e) { $(msg).textContent = e.message; }
  });
}

function canvasPos(cv, ev) {
  const r = cv.getBoundingClientRect();
  return [(ev.clientX - r.left) * cv.width / r.width, (ev.clientY - r.top) * cv.height / r.height];
}
function nearestAtom(P, px, py, get) {
  let best = -1, bd = 10;
  atoms().forEach((a, j) => { const [x, y] = get(a); const dd = Math.hypot(P.X(x) - px, P.Y(y) - py); if (dd < bd) { bd = dd; best = j; } });
  return best;
}
let frameReq = 0;
function redrawSoon() { if (!frameReq) frameReq = requestAnimationFrame(() => { frameReq = 0; redraw(); }); }
/* mouse on a plot where atoms live: get(a) -> plot coords of atom a, put(a, x, y) moves it */
function atomCanvas(id, plotOf, get, put, make, setCursor) {
  const cv = $(id); let drag = -1;
  cv.addEventListener('mousedown', ev => {
    const P = plotOf(); if (!P) return;
    const [px, py] = canvasPos(cv, ev), x = P.ix(px), y = P.iy(py);
    if (ev.shiftKey && make) { atoms().push(make(x, y)); redraw(); return; }
    const j = get ? nearestAtom(P, px, py, get) : -1;
    if (ev.altKey) { if (j >= 0 && atoms().length > 1) { atoms().splice(j, 1); redraw(); } return; }
    if (j >= 0) { drag = j; return; }
    setCursor(x, y); redraw();
  });
  cv.addEventListener('mousemove', ev => {
    if (drag < 0) return;
    const P = plotOf(), [px, py] = canvasPos(cv, ev); put(atoms()[drag], P.ix(px), P.iy(py)); redrawSoon();
  });
  window.addEventListener('mouseup', () => { drag = -1; });
}

function loadAtomsFile(file) {
  const msg = $('atoms-msg');
  file.arrayBuffer().then(buf => {
    const name = file.name.replace(/[^A-Za-z0-9._-]/g, '_'), path = '/in/' + name;
    writeFile(path, new Uint8Array(buf));
    try {
      let list, d, t = S.t;
      if (/\.hjm$/i.test(name)) {
        const m = Model.load(path);
        try {
          const I = m.info();
          if (I.nClasses !== 0 || I.layers !== 1 || I.dim < 1 || I.dim > 2 || I.dRaw !== I.dim)
            throw new Error(`${file.name}: the explorer's atoms come from a single-layer lse:N regression model on 1 or 2 inputs without preprocessing; this one has ${I.layers} layer(s), ${I.nClasses ? I.nClasses + ' classes' : 'regression'}, ${I.dRaw} input(s)`);
          const A = m.atoms(); d = A.dim; t = I.t; list = [];
          for (let j = 0; j < A.N; j++) list.push({ y: Array.from(A.y.subarray(j * d, j * d + d)), g: A.g[j] });
        } finally { m.free(); }
      } else {
        const cap = 200000, res = withFrame(F => {
          const dat = F.out(cap), dims = F.i32(2);
          check(M._ex_matrix_read(F.str(path), cap, dat, dims, MSG));
          const [r, c] = F.ri(dims, 2); return { r, c, v: F.rd(dat, r * c) };
        });
        if (res.c < 2 || res.c > 3) throw new Error(`${file.name}: atoms need 2 columns (y, g) or 3 (y_1, y_2, g), found ${res.c}`);
        d = res.c - 1; list = [];
        for (let j = 0; j < res.r; j++) list.push({ y: Array.from(res.v.subarray(j * res.c, j * res.c + d)), g: res.v[j * res.c + d] });
      }
      S.d = d; S.atoms[d] = list; S.t = t; $('dim').value = String(d);
      $('t-text').value = String(t); $('t-slider').value = sliderFromT(t);
      msg.textContent = ''; redraw();
    } catch (e) { msg.textContent = e.message; }
  });
}

/* ---- view 4: training ---------------------------------------------------------------------- */
const T = { data: [], model: null, losses: [], trail: [], running: false };
/* data rows (x_1..x_dim, y); 1-D: a kinked curve, 2-D: a cone sampled on a jittered grid */
T.dim = 1; T.sets = { 1: [], 2: [] };
for (let i = 0; i < 15; i++) { const x = -2 + 4 * i / 14; T.sets[1].push([x, Math.abs(x) - 0.5 + 0.3 * Math.sin(3 * x)]); }
for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) {
  const x1 = -2 + i + 0.2 * Math.sin(7 * j), x2 = -2 + j + 0.2 * Math.cos(5 * i);
  T.sets[2].push([x1, x2, Math.hypot(x1, x2) - 1]);
}
T.data = T.sets[1];
const tx = rows => Float64Array.from(rows.flatMap(q => q.slice(0, T.dim)));
const ty = rows => Float64Array.from(rows.map(q => q[T.dim]));
let trainPlot = null;
function trainParams() {
  const N = parseNum($('train-n').value, 'the number of atoms', v => Number.isInteger(v) && v >= 1 && v <= 200, 'an integer in 1..200');
  const auto = $('train-eps').value.trim() === 'auto';
  const eps = auto ? 0.1 : parseNum($('train-eps').value, 'ε', v => v >= 0, "a number ≥ 0 or 'auto'");
  const lr = parseNum($('train-lr').value, 'lr', v => v > 0, 'a number > 0');
  const steps = parseNum($('train-steps').value, 'steps', v => Number.isInteger(v) && v >= 1 && v <= 100000, 'an integer in 1..100000');
  return { N, eps, lr, steps, auto };
}
/* the eps grid of `hjdl fit --eps auto` */
const EPS_AUTO_GRID = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0];
function trainAuto(p) {
  /* every 5th point validates (at least one), the others train */
  const tr = T.data.filter((_, i) => i % 5 !== 4), va = T.data.filter((_, i) => i % 5 === 4);
  if (va.length === 0 || tr.length === 0) throw new Error("ε auto needs at least 5 data points (every 5th validates)");
  const all = tr.concat(va);
  newTrainModel();
  const curve = T.model.fitAuto(tx(all), ty(all), all.length, va.length, p.steps, p.lr, EPS_AUTO_GRID);
  const eps = T.model.info().eps;
  T.losses = [curve[EPS_AUTO_GRID.length]];
  T.autoText = `ε auto chose ${eps} (validation loss ${EPS_AUTO_GRID.map((e, k) => `${e}: ${fmt(curve[k])}`).join(', ')})`;
  drawTrain(); exportModels();
}
function newTrainModel() {
  const p = trainParams();
  if (T.model) T.model.free();
  T.model = Model.create(`lse:${p.N}`, T.dim, 0, p.eps, 1.0, 1); T.losses = []; T.trail = [];
}
/* 2-D: the model's values as a map and the data as discs, both on the data's colour scale */
function drawTrain2(P) {
  const ys = T.data.map(q => q[2]), [lo, hi] = range(ys, 0.05), col = v => heatColor(Math.min(1, Math.max(0, (v - lo) / (hi - lo))));
  if (T.model) {
    const n = 60, g = new Float64Array(2 * n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { g[2 * (i * n + j)] = -3 + 6 * (i + 0.5) / n; g[2 * (i * n + j) + 1] = -3 + 6 * (j + 0.5) / n; }
    const F = T.model.predict(g, n * n, 1), img = P.ctx.createImageData(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const [r, gg, b] = col(F[i * n + j]), p = ((n - 1 - j) * n + i) * 4;
      img.data[p] = r; img.data[p + 1] = gg; img.data[p + 2] = b; img.data[p + 3] = 255;
    }
    const off = document.createElement('canvas'); off.width = off.height = n; off.getContext('2d').putImageData(img, 0, 0);
    P.ctx.drawImage(off, P.pad[0], P.pad[2], P.W, P.H);
  }
  T.data.forEach(q => { P.dot(q[0], q[1], '#000', 5); const [r, gg, b] = col(q[2]); P.dot(q[0], q[1], `rgb(${r},${gg},${b})`, 3.5); });
}
function drawTrain() {
  const dim = T.dim, xs = tx(T.data);
  const P = trainPlot = new Plot($('cv-train'), [-3, 3], dim === 1 ? [-2, 3] : [-3, 3]);
  P.clear();
  if (dim === 1) T.data.forEach(p => P.dot(p[0], p[1], '#333', 3)); else drawTrain2(P);
  /* an atom in the plot: (y_j, g_j) in 1-D, y_j in 2-D */
  const at = (A, j) => (dim === 1 ? [A.y[j], A.g[j]] : [A.y[2 * j], A.y[2 * j + 1]]);
  if (T.model) {
    if (dim === 1) {
      const gx = []; for (let i = 0; i <= 200; i++) gx.push(-3 + 6 * i / 200);
      P.line(gx, Array.from(T.model.predict(Float64Array.from(gx), gx.length, 1)), '#d9711c', 2);
    }
    T.trail.forEach((A, k) => { for (let j = 0; j < A.N; j++) P.dot(...at(A, j), `rgba(176,24,107,${0.1 + 0.5 * k / T.trail.length})`, 1.5); });
    const A = T.model.atoms(); for (let j = 0; j < A.N; j++) P.dot(...at(A, j), '#b0186b', 5, dim === 1 ? 'o' : 'x');
    const pred = T.data.length ? T.model.predict(xs, T.data.length, 1) : [];
    table('train-values', [
      ['steps', 'steps', T.losses.length], ['loss (mean squared error)', 'loss', T.losses.length ? T.losses[T.losses.length - 1] : NaN],
      ['atoms (y_j; g_j) at t = 1', 'atoms', Array.from(A.g).map((g, j) => `(${Array.from(A.y.subarray(j * dim, j * dim + dim)).map(fmt).join(', ')}; ${fmt(g)})`).join(' '), undefined],
      ['model at the data x', 'pred', Array.from(pred), Array.from(pred).slice(0, 4).map(fmt).join(', ') + ' …'],
    ]);
    $('train-values').dataset.x = T.data.map(q => q.slice(0, dim).join(',')).join(';');
  }
  P.axes(dim === 1 ? 'x' : 'x₁', dim === 1 ? 'y · atoms (y_j, g_j)' : 'x₂ · colour: y · ✕ atoms y_j');
  const L = new Plot($('cv-loss'), [0, Math.max(1, T.losses.length)], range(T.losses.map(v => Math.log10(v))));
  L.clear(); L.line(T.losses.map((_, i) => i), T.losses.map(v => Math.log10(v)), '#1f5fbf', 1.5); L.axes('step', 'log₁₀ loss');
}
function trainRun() {
  if (T.running) return;
  let p; try { p = trainParams(); if (!T.model) newTrainModel(); } catch (e) { $('train-msg').textContent = e.message; return; }
  if (T.data.length === 0) { $('train-msg').textContent = 'add data points first'; return; }
  $('train-msg').textContent = '';
  if (p.auto) {
    try { trainAuto(p); $('train-msg').textContent = ''; $('train-auto').textContent = T.autoText; } catch (e) { $('train-msg').textContent = e.message; }
    return;
  }
  $('train-auto').textContent = ''; M._ex_model_set_eps(T.model.p, p.eps);
  const x = tx(T.data), y = ty(T.data);
  let left = p.steps; T.running = true; document.body.dataset.training = 'running';
  const chunk = () => {
    try {
      const k = Math.min(left, 10), L = T.model.train(x, y, y.length, k, p.lr);
      T.losses.push(...L); left -= k;
      if (T.losses.length % 30 < 10) { T.trail.push(T.model.atoms()); if (T.trail.length > 40) T.trail.shift(); }
      drawTrain();
    } catch (e) { $('train-msg').textContent = e.message; left = 0; }
    if (left > 0) requestAnimationFrame(chunk);
    else { T.running = false; document.body.dataset.training = 'done'; exportModels(); }
  };
  requestAnimationFrame(chunk);
}

/* ---- view 5: certificates ---------------------------------------------------------------- */
const C = { data: [], model: null, cursor: [0.1, 0.3] };
{ let s = 12345; const rnd = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
  for (let i = 0; i < 40; i++) { const c = i % 2, r = 0.7 * Math.sqrt(-2 * Math.log(rnd() + 1e-12)), a = 2 * Math.PI * rnd();
    C.data.push([(c ? 1.0 : -1.0) + r * Math.cos(a), (c ? 0.6 : -0.5) + r * Math.sin(a), c]); } }
let certPlot = null;
function certTrain() {
  try {
    const N = parseNum($('cert-n').value, 'the number of neurons per class', v => Number.isInteger(v) && v >= 1 && v <= 50, 'an integer in 1..50');
    const eps = parseNum($('cert-eps').value, 'ε', v => v >= 0, 'a number ≥ 0');
    const m = Model.create(`lse-class:${N}`, 2, 2, eps, 1.0, 1);
    try {
      m.train(Float64Array.from(C.data.flatMap(p => [p[0], p[1]])), Float64Array.from(C.data.map(p => p[2])), C.data.length, 400, 0.05);
    } catch (e) { m.free(); throw e; }
    if (C.model) C.model.free();
    C.model = m; $('cert-msg').textContent = ''; drawCert(); exportModels();
  } catch (e) { $('cert-msg').textContent = e.message; }
}
function certLoad(file) {
  file.arrayBuffer().then(buf => {
    const path = '/in/cert_' + file.name.replace(/[^A-Za-z0-9._-]/g, '_');
    writeFile(path, new Uint8Array(buf));
    try {
      const m = Model.load(path), I = m.info();
      if (I.nClasses !== 2 || I.layers !== 1 || I.dRaw !== 2) {
        m.free();
        throw new Error(`${file.name}: the certificate view needs a 2-class lse-class:N model on 2 inputs without hidden layers (this one: ${I.nClasses ? I.nClasses + ' classes' : 'regression'}, ${I.layers} layer(s), ${I.dRaw} input(s))`);
      }
      if (C.model) C.model.free();
      C.model = m; $('cert-msg').textContent = ''; drawCert(); exportModels();
    } catch (e) { $('cert-msg').textContent = e.message; }
  });
}
function drawCert() {
  const P = certPlot = new Plot($('cv-cert'), [-3, 3], [-3, 3]); P.clear();
  if (C.model) {
    const n = 60, g = new Float64Array(2 * n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { g[2 * (i * n + j)] = -3 + 6 * (i + 0.5) / n; g[2 * (i * n + j) + 1] = -3 + 6 * (j + 0.5) / n; }
    const F = C.model.predict(g, n * n, 2), img = P.ctx.createImageData(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const k = i * n + j, m = F[2 * k + 1] - F[2 * k], a = Math.min(0.4, 0.1 + Math.abs(m) * 0.1), p = ((n - 1 - j) * n + i) * 4;
      const col = m > 0 ? [192, 38, 45] : [31, 95, 191];
      for (let c = 0; c < 3; c++) img.data[p + c] = Math.round(255 - a * (255 - col[c]));
      img.data[p + 3] = 255;
    }
    const off = document.createElement('canvas'); off.width = off.height = n; off.getContext('2d').putImageData(img, 0, 0);
    P.ctx.drawImage(off, P.pad[0], P.pad[2], P.W, P.H);
  }
  C.data.forEach(p => P.dot(p[0], p[1], p[2] ? '#c0262d' : '#1f5fbf', 3));
  P.dot(C.cursor[0], C.cursor[1], '#000', 3);
  if (C.model) {
    const r = C.model.certify(Float64Array.from(C.cursor), 1), k0 = C.model.curvature(0), k1 = C.model.curvature(1);
    const c = P.ctx; c.save(); c.strokeStyle = '#000'; c.lineWidth = 2; c.beginPath();
    c.ellipse(P.X(C.cursor[0]), P.Y(C.cursor[1]), Math.abs(P.X(r[3]) - P.X(0)), Math.abs(P.Y(r[3]) - P.Y(0)), 0, 0, 2 * Math.PI); c.stroke(); c.restore();
    const A = C.model.atoms();
    for (let j = 0; j < A.N; j++) P.dot(A.y[2 * j], A.y[2 * j + 1], j < A.N / 2 ? '#1f5fbf' : '#c0262d', 5, 'x');
    table('cert-values', [
      ['cursor x', 'x', C.cursor], ['predicted class', 'class', r[0]], ['runner-up', 'runner_up', r[1]],
      ['margin F_y − F_c', 'margin', r[2]], ['certified ℓ2 radius', 'radius', r[3]],
      ['curvature bound, class 0: paper max|w|²/ε, MEB, diameter, best', 'curv0', Array.from(k0)],
      ['curvature bound, class 1', 'curv1', Array.from(k1)],
    ]);
  } else table('cert-values', [['', 'none', '', 'train or load a classifier']]);
  P.axes('x₁', 'x₂');
}

/* ---- view 6: export ------------------------------------------------------------------------ */
const dataURL = (text, type) => `data:${type};charset=utf-8,` + encodeURIComponent(text);
function exportAtoms() {
  const d = S.d, A = atoms(), head = (d === 1 ? ['y_1'] : ['y_1', 'y_2']).concat('g').join(',');
  const csv = head + '\n' + A.map(a => a.y.map(String).concat(String(a.g)).join(',')).join('\n') + '\n';
  const xcsv = (d === 1 ? 'x_1' : 'x_1,x_2') + '\n' + S.cursor[d].map(String).join(',') + '\n';
  $('atoms-csv').textContent = csv; $('dl-atoms').href = dataURL(csv, 'text/csv'); $('dl-x').href = dataURL(xcsv, 'text/csv');
  const K = Math.min(A.length, 5);
  let cmd = `# the numbers of views 1-3 (atoms.csv, x.csv = the cursor)\n` +
    `hjdl solve --atoms atoms.csv --x x.csv --t ${S.t} --eps ${S.eps}\n` +
    `hjdl explain --atoms atoms.csv --x x.csv --t ${S.t} --eps ${S.eps} --top ${K}\n` +
    `hjdl landscape --atoms atoms.csv --t ${S.t} --out landscape-out   # folds.csv: the bifurcation diagram\n`;
  $('commands').dataset.atoms = cmd; exportCommands();
}
function exportModels() {
  if (T.model) { const txt = T.model.text(); $('dl-model').href = dataURL(txt, 'text/plain'); $('dl-model').dataset.hjm = txt; }
  if (C.model) { const txt = C.model.text(); $('dl-cert').href = dataURL(txt, 'text/plain'); $('dl-cert').dataset.hjm = txt; }
  exportCommands();
}
function exportCommands() {
  let cmd = $('commands').dataset.atoms || '';
  if (T.model) cmd += `# training (view 4): model.hjm, and train-x.csv = the data x\nhjdl predict model.hjm --x train-x.csv\nhjdl initial-data model.hjm\n`;
  if (C.model) cmd += `# certificates (view 5): classifier.hjm, cursor.csv = ${C.cursor.map(String).join(',')}\nhjdl certify classifier.hjm --x cursor.csv\n`;
  $('commands').textContent = cmd;
}

/* ---- start --------------------------------------------------------------------------------- */
function start() {
  MSG = M._malloc(M._ex_error_len());
  bindNumber('eps-slider', 'eps-text', 'eps-msg', 'ε', v => v >= 0, 'a number ≥ 0 (0: the max-plus limit)',
    epsFromSlider, sliderFromEps, v => { S.eps = v; });
  bindNumber('t-slider', 't-text', 't-msg', 't', v => v > 0, 'a number > 0', tFromSlider, sliderFromT, v => { S.t = v; });
  $('eps-slider').value = sliderFromEps(S.eps); $('t-slider').value = sliderFromT(S.t);
  let playing = 0;
  $('eps-play').addEventListener('click', () => {   /* eps from 1e-3 to 10 in 4 s, log-uniform */
    if (playing) { cancelAnimationFrame(playing); playing = 0; return; }
    const t0 = performance.now();
    const step = now => {
      const f = Math.min(1, (now - t0) / 4000), e = 10 ** (-3 + 4 * f);
      S.eps = e; $('eps-text').value = String(e); $('eps-slider').value = sliderFromEps(e); redraw();
      playing = f < 1 ? requestAnimationFrame(step) : 0;
    };
    playing = requestAnimationFrame(step);
  });
  $('dim').addEventListener('change', () => { S.d = Number($('dim').value); redraw(); });
  $('atoms-file').addEventListener('change', ev => { if (ev.target.files[0]) loadAtomsFile(ev.target.files[0]); ev.target.value = ''; });
  $('reset-atoms').addEventListener('click', () => { S.atoms = JSON.parse(EXAMPLE); redraw(); });
  $('random200').addEventListener('click', () => {
    let s = 7; const rnd = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
    S.atoms[S.d] = []; for (let j = 0; j < 200; j++) S.atoms[S.d].push({ y: Array.from({ length: S.d }, () => 4 * rnd() - 2), g: 0.5 * rnd() });
    redraw();
  });
  /* view 1: in 1-D atoms live at (y, g) */
  atomCanvas('cv-solve', () => solvePlot, a => (S.d === 1 ? [a.y[0], a.g] : [NaN, NaN]), (a, x, y) => { if (S.d === 1) { a.y[0] = x; a.g = y; } },
    (x, y) => (S.d === 1 ? { y: [x], g: y } : { y: [x, S.cursor[2][1]], g: 0 }), x => { S.cursor[S.d][0] = x; });
  /* view 3: in 2-D atoms live at y on the map */
  atomCanvas('cv-land', () => landPlot, a => (S.d === 2 ? [a.y[0], a.y[1]] : [a.y[0], 0.02 * Math.log(atoms().length)]),
    (a, x, y) => { if (S.d === 2) { a.y[0] = x; a.y[1] = y; } else a.y[0] = x; },
    (x, y) => (S.d === 2 ? { y: [x, y], g: 0 } : { y: [x], g: 0 }), (x, y) => { S.cursor[S.d][0] = x; if (S.d === 2) S.cursor[2][1] = y; });
  $('show-basins').addEventListener('change', redraw);
  $('train-go').addEventListener('click', trainRun);
  $('train-dim').addEventListener('change', () => {
    if (T.running) { $('train-dim').value = String(T.dim); return; }
    T.dim = Number($('train-dim').value); T.data = T.sets[T.dim];
    if (T.model) T.model.free();
    T.model = null; T.losses = []; T.trail = []; $('train-values').innerHTML = ''; $('train-auto').textContent = ''; drawTrain();
  });
  $('train-reset').addEventListener('click', () => { try { newTrainModel(); $('train-msg').textContent = ''; drawTrain(); } catch (e) { $('train-msg').textContent = e.message; } });
  $('train-use').addEventListener('click', () => {
    if (!T.model) { $('train-msg').textContent = 'train a model first'; return; }
    const A = T.model.atoms(), d = A.dim; S.d = d; $('dim').value = String(d); S.t = 1; $('t-text').value = '1'; $('t-slider').value = sliderFromT(1);
    S.atoms[d] = Array.from(A.g, (g, j) => ({ y: Array.from(A.y.subarray(j * d, j * d + d)), g })); redraw();
  });
  $('cv-train').addEventListener('mousedown', ev => {
    if (!trainPlot) return; const [px, py] = canvasPos($('cv-train'), ev), x = trainPlot.ix(px), y = trainPlot.iy(py);
    if (ev.altKey) { let b = -1, bd = Infinity; T.data.forEach((p, i) => { const dd = Math.hypot(p[0] - x, p[1] - y); if (dd < bd) { bd = dd; b = i; } }); if (b >= 0) T.data.splice(b, 1); }
    else if (T.dim === 1) T.data.push([x, y]);
    else {
      try { T.data.push([x, y, parseNum($('train-y').value, 'the value y of a new point', () => true, 'a number')]); $('train-msg').textContent = ''; }
      catch (e) { $('train-msg').textContent = e.message; }
    }
    drawTrain();
  });
  $('cert-train').addEventListener('click', certTrain);
  $('cert-file').addEventListener('change', ev => { if (ev.target.files[0]) certLoad(ev.target.files[0]); ev.target.value = ''; });
  $('cv-cert').addEventListener('mousedown', ev => {
    const [px, py] = canvasPos($('cv-cert'), ev), x = certPlot.ix(px), y = certPlot.iy(py);
    if (ev.shiftKey) C.data.push([x, y, 1]); else if (ev.ctrlKey) C.data.push([x, y, 0]); else C.cursor = [x, y];
    try { drawCert(); exportCommands(); } catch (e) { $('cert-msg').textContent = e.message; }
  });
  $('status').textContent = 'libhjdl (WebAssembly) ready'; $('status').className = '';
  redraw(); drawTrain(); drawCert();
  document.body.dataset.ready = '1';
}
if (typeof createHjdl !== 'function') {
  document.getElementById('status').textContent = 'hjdl-wasm.js is missing: run `make explorer` first';
} else {
  createHjdl().then(m => { M = m; start(); }).catch(showStatus);
}

/* explorer_test.js — the explorer page in a real browser (headless Debian chromium
 * through the DevTools protocol, puppeteer-core), against the command line.
 *
 *   node tests/explorer/explorer_test.js HJDL_BINARY [OUT_DIR]
 *
 * Loads explorer/index.html from the file system (no server; any request that is
 * not file:// fails the test), moves the ε and t sliders, drags atoms in 1-D and
 * 2-D, trains a regression model and a classifier, feeds bad input, and checks
 * that the numbers the page exposes (data-* attributes, the doubles' shortest
 * round-trip decimals) equal what `hjdl solve / explain / landscape / predict /
 * certify` print for the same inputs: 1e-12 relative (1e-8 for folds), with an
 * absolute slack of 1e-15 for entries that vanish (weights of far atoms). Any
 * console error or page exception fails it. Screenshots and the comparison
 * table go to OUT_DIR (default tests/explorer/out). Prints 'N passed, M failed'. */
'use strict';
const fs = require('fs');
const path = require('path');
const os = require('os');
const { execFileSync } = require('child_process');
const puppeteer = require('puppeteer-core');

const HJDL = path.resolve(process.argv[2] || 'build/hjdl');
const OUT = path.resolve(process.argv[3] || path.join(__dirname, 'out'));
const ROOT = path.resolve(__dirname, '..', '..');
const PAGE = 'file://' + path.join(ROOT, 'explorer', 'index.html');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'hjdl-explorer-'));
fs.mkdirSync(OUT, { recursive: true });

let passed = 0, failed = 0;
const worst = new Map();   /* quantity -> { rel, n, tol } */
const consoleErrors = [];
function ok(cond, what) { if (cond) passed++; else { failed++; console.log('FAIL: ' + what); } }
function cmp(quantity, page, cli, tol, where) {
  const a = Number(page), b = Number(cli), diff = Math.abs(a - b), scale = Math.max(Math.abs(a), Math.abs(b));
  const rel = scale === 0 ? 0 : diff / scale;
  const w = worst.get(quantity) || { rel: 0, n: 0, tol };
  w.n++; if (rel > w.rel || Number.isNaN(rel)) w.rel = Number.isNaN(rel) ? Infinity : rel;
  worst.set(quantity, w);
  ok(Number.isFinite(a) && Number.isFinite(b) && diff <= tol * scale + 1e-15,
     `${quantity} ${where}: page ${page} vs CLI ${cli} (rel ${rel.toExponential(2)} > ${tol})`);
}
function hjdl(args) { return execFileSync(HJDL, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); }
function csvRows(text) {
  const lines = text.trim().split('\n'); const head = lines[0].split(',');
  return lines.slice(1).map(l => { const v = l.split(','); const r = {}; head.forEach((h, i) => { r[h] = v[i]; }); return r; });
}
const write = (name, text) => { const p = path.join(TMP, name); fs.writeFileSync(p, text); return p; };

async function main() {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1400,1000'],
  });
  try { await run(browser); } finally { await browser.close(); }
}

async function run(browser) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  page.on('console', m => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', e => consoleErrors.push('pageerror: ' + e.message));
  await page.setRequestInterception(true);
  page.on('request', r => { if (!r.url().startsWith('file://') && !r.url().startsWith('data:')) { consoleErrors.push('network request: ' + r.url()); r.abort(); } else r.continue(); });
  await page.goto(PAGE, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  const settle = async () => {
    await page.waitForFunction(() => document.body.dataset.landscape === 'done' &&
      document.body.dataset.bifurcation !== 'pending', { timeout: 120000 });
  };
  await settle();
  const typeInto = async (sel, text) => {
    await page.$eval(sel, e => { e.value = ''; e.focus(); });
    await page.type(sel, text); await page.keyboard.press('Enter');
  };
  const shot = async (name) => page.screenshot({ path: path.join(OUT, name), fullPage: true });

  /* read what the page shows */
  const state = () => page.evaluate(() => {
    const q = k => document.querySelector(`#cursor-values [data-q="${k}"]`).dataset.v;
    const a = k => document.querySelector(`#attr-values [data-q="${k}"]`).dataset.v;
    return {
      eps: document.getElementById('eps-text').value, t: document.getElementById('t-text').value,
      d: Number(document.getElementById('dim').value), atomsCsv: document.getElementById('atoms-csv').textContent,
      x: q('x'), u: q('u'), f: q('f'), entropy: q('entropy'), grad: q('grad'), u0: q('u0'),
      H: a('H'), n_eff: a('n_eff'), regime: a('regime'),
      top: Array.from(document.querySelectorAll('#attr-top tr[data-atom]')).map(r => [r.dataset.atom, r.dataset.pi]),
      crit: Array.from(document.querySelectorAll('#crit-list tr.crit')).map(r => ({ x: r.dataset.x, H: r.dataset.h, index: r.dataset.index })),
      folds: Array.from(document.querySelectorAll('#fold-list tr.fold')).map(r => ({ eps: r.dataset.eps, x: r.dataset.x, H: r.dataset.h, type: r.dataset.type, dir: r.dataset.dir })),
    };
  });

  /* compare one state with the CLI */
  const compareState = (s, label, withLandscape) => {
    const atomsPath = write(`atoms_${label}.csv`, s.atomsCsv);
    const xPath = write(`x_${label}.csv`, (s.d === 1 ? 'x_1' : 'x_1,x_2') + '\n' + s.x + '\n');
    const sol = csvRows(hjdl(['solve', '--atoms', atomsPath, '--x', xPath, '--t', s.t, '--eps', s.eps]))[0];
    cmp('solve u', s.u, sol.u, 1e-12, label);
    cmp('solve f', s.f, sol.f, 1e-12, label);
    cmp('solve entropy', s.entropy, sol.entropy, 1e-12, label);
    s.grad.split(',').forEach((g, c) => cmp('solve grad u', g, sol[`grad_u_${c + 1}`], 1e-12, label));
    const K = s.top.length;
    const ex = csvRows(hjdl(['explain', '--atoms', atomsPath, '--x', xPath, '--t', s.t, '--eps', s.eps, '--top', String(K)]))[0];
    cmp('explain entropy', s.H, ex.entropy, 1e-12, label);
    cmp('explain n_eff', s.n_eff, ex.n_eff, 1e-12, label);
    ok(Number(s.regime) === Number(ex.regime), `explain regime ${label}: ${s.regime} vs ${ex.regime}`);
    s.top.forEach(([j, p], k) => {
      ok(Number(j) === Number(ex[`atom_${k + 1}`]), `explain atom_${k + 1} ${label}: ${j} vs ${ex[`atom_${k + 1}`]}`);
      cmp('explain pi_k', p, ex[`pi_${k + 1}`], 1e-12, label);
    });
    if (!withLandscape) return;
    ok(s.crit.length > 0, `critical points shown (${label})`);
    if (s.crit.length) {
      const cp = write(`crit_${label}.csv`, (s.d === 1 ? 'x_1' : 'x_1,x_2') + '\n' + s.crit.map(c => c.x).join('\n') + '\n');
      const rows = csvRows(hjdl(['solve', '--atoms', atomsPath, '--x', cp, '--t', s.t, '--eps', s.eps]));
      s.crit.forEach((c, i) => cmp('landscape H at critical points', c.H, rows[i].entropy, 1e-12, `${label} #${i}`));
    }
    const dir = path.join(TMP, `land_${label}`);
    try { hjdl(['landscape', '--atoms', atomsPath, '--t', s.t, '--out', dir]); } catch (e) { if (e.status !== 1) throw e; }
    const folds = csvRows(fs.readFileSync(path.join(dir, 'folds.csv'), 'utf8'));
    ok(folds.length === s.folds.length, `number of folds ${label}: page ${s.folds.length} vs CLI ${folds.length}`);
    folds.forEach((f, i) => {
      const p = s.folds[i]; if (!p) return;
      cmp('landscape fold eps', p.eps, f.eps, 1e-8, `${label} #${i}`);
      p.x.split(',').forEach((x, c) => cmp('landscape fold x', x, f[`x_${c + 1}`], 1e-8, `${label} #${i}`));
      cmp('landscape fold H', p.H, f.H, 1e-8, `${label} #${i}`);
      ok(Number(p.type) === Number(f.type) && Number(p.dir) === Number(f.direction), `fold type/direction ${label} #${i}`);
    });
  };

  /* 1. defaults (1-D example atoms, eps 0.1, t 0.5) */
  let s = await state();
  compareState(s, '1d-default', true);
  await shot('01-1d-default.png');

  /* 2. move the eps slider with the mouse, and the t slider with the keyboard */
  const slider = async (id, frac) => {
    const box = await (await page.$('#' + id)).boundingBox();
    await page.mouse.click(box.x + 8 + (box.width - 16) * frac, box.y + box.height / 2);
  };
  await slider('eps-slider', 0.62); await settle();
  await page.focus('#t-slider'); for (let k = 0; k < 25; k++) await page.keyboard.press('ArrowRight'); await settle();
  s = await state();
  ok(s.eps !== '0.1' && s.t !== '0.5', `sliders moved eps to ${s.eps}, t to ${s.t}`);
  compareState(s, '1d-sliders', true);

  /* 3. drag atom 1 in 1-D (it lives at (y, g) in view 1) */
  const atomPx = (canvas, j) => page.evaluate((canvas, j) => {
    const P = canvas === 'cv-solve' ? solvePlot : landPlot, a = S.atoms[S.d][j], cv = document.getElementById(canvas);
    const r = cv.getBoundingClientRect(), sx = r.width / cv.width, sy = r.height / cv.height;
    const [x, y] = S.d === 1 && canvas === 'cv-solve' ? [a.y[0], a.g] : [a.y[0], a.y[1]];
    return [r.left + P.X(x) * sx, r.top + P.Y(y) * sy];
  }, canvas, j);
  const drag = async (canvas, j, dx, dy) => {
    await page.$eval('#' + canvas, e => e.scrollIntoView({ block: 'center' }));
    const [x, y] = await atomPx(canvas, j);
    await page.mouse.move(x, y); await page.mouse.down();
    for (let k = 1; k <= 5; k++) await page.mouse.move(x + dx * k / 5, y + dy * k / 5);
    await page.mouse.up(); await new Promise(r => setTimeout(r, 50)); await settle();
  };
  const before = (await state()).atomsCsv;
  await drag('cv-solve', 1, 40, -30);
  s = await state();
  ok(s.atomsCsv !== before, 'dragging moved an atom in 1-D');
  compareState(s, '1d-dragged', true);
  await shot('02-1d-dragged.png');

  /* 4. eps = 0 exactly: the max-plus / Hopf-Lax limit */
  await slider('eps-slider', 0.0); await settle();
  s = await state();
  ok(s.eps === '0', `eps slider reaches 0 exactly (${s.eps})`);
  ok(s.u === s.u0, `u_eps = u_0 at eps = 0 (${s.u} vs ${s.u0})`);
  compareState(s, '1d-eps0', false);

  /* 5. bad input: eps as text, a malformed CSV, a .hjm of the wrong kind */
  await typeInto('#eps-text', '0.25'); await settle();
  const good = await state();
  ok(good.eps === '0.25', 'eps typed as 0.25');
  await typeInto('#eps-text', 'abc');
  let msg = await page.$eval('#eps-msg', e => e.textContent);
  s = await state();
  ok(msg.length > 0 && s.u === good.u && s.atomsCsv === good.atomsCsv, `eps 'abc' refused next to the control: "${msg}"`);
  const upload = async (sel, name, text) => {
    const p = write(name, text); const h = await page.$(sel); await h.uploadFile(p);
    await new Promise(r => setTimeout(r, 300));
  };
  await upload('#atoms-file', 'bad.csv', 'y_1,g\n1.0,2.0\n3.0\n');
  msg = await page.$eval('#atoms-msg', e => e.textContent);
  s = await state();
  ok(msg.length > 0 && s.atomsCsv === good.atomsCsv, `malformed CSV refused: "${msg}"`);
  await typeInto('#eps-text', '0.25');

  /* 6. training (view 4): Adam on the drawn points, then predict with the CLI */
  await page.click('#train-go');
  await page.waitForFunction(() => document.body.dataset.training === 'done', { timeout: 120000 });
  const tr = await page.evaluate(() => ({
    hjm: document.getElementById('dl-model').dataset.hjm, x: document.getElementById('train-values').dataset.x,
    pred: document.querySelector('#train-values [data-q="pred"]').dataset.v,
    loss: Array.from(T.losses),
  }));
  ok(tr.loss.length === 300 && tr.loss[299] < tr.loss[0], `training lowered the loss (${tr.loss[0]} -> ${tr.loss[299]})`);
  const mp = write('model.hjm', tr.hjm);
  const pr = csvRows(hjdl(['predict', mp, '--x', write('train-x.csv', 'x_1\n' + tr.x.split(';').join('\n') + '\n')]));
  tr.pred.split(',').forEach((p, i) => cmp('predict (trained lse:6)', p, pr[i].prediction, 1e-12, `#${i}`));
  await page.evaluate(() => document.getElementById('view4').scrollIntoView());
  await shot('03-training.png');
  /* eps 'auto': chosen on held-out points by hj_model_fit_eps_auto */
  await typeInto('#train-eps', 'auto'); await page.click('#train-go');
  await page.waitForFunction(() => document.getElementById('train-auto').textContent.length > 0 ||
    document.getElementById('train-msg').textContent.length > 0, { timeout: 120000 });
  const au = await page.evaluate(() => ({
    text: document.getElementById('train-auto').textContent, msg: document.getElementById('train-msg').textContent,
    hjm: document.getElementById('dl-model').dataset.hjm, x: document.getElementById('train-values').dataset.x,
    pred: document.querySelector('#train-values [data-q="pred"]').dataset.v, eps: T.model.info().eps,
  }));
  ok(au.msg === '' && [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2].includes(au.eps), `eps auto chose ${au.eps}: ${au.text} ${au.msg}`);
  const pa = csvRows(hjdl(['predict', write('auto.hjm', au.hjm), '--x', write('train-x2.csv', 'x_1\n' + au.x.split(';').join('\n') + '\n')]));
  au.pred.split(',').forEach((p, i) => cmp('predict (lse:6, eps auto)', p, pa[i].prediction, 1e-12, `#${i}`));
  /* training on 2-D data (lse:6 on the cone), then predict */
  await page.select('#train-dim', '2'); await typeInto('#train-eps', '0.2');
  await page.click('#train-go');
  await page.waitForFunction(() => document.body.dataset.training === 'done' && T.dim === 2 && T.losses.length === 300, { timeout: 120000 });
  const t2 = await page.evaluate(() => ({
    hjm: document.getElementById('dl-model').dataset.hjm, x: document.getElementById('train-values').dataset.x,
    pred: document.querySelector('#train-values [data-q="pred"]').dataset.v, loss: Array.from(T.losses),
  }));
  ok(t2.loss[299] < t2.loss[0], `2-D training lowered the loss (${t2.loss[0]} -> ${t2.loss[299]})`);
  const p2 = csvRows(hjdl(['predict', write('model2.hjm', t2.hjm), '--x', write('train-x3.csv', 'x_1,x_2\n' + t2.x.split(';').join('\n') + '\n')]));
  t2.pred.split(',').forEach((p, i) => cmp('predict (lse:6 on 2-D data)', p, p2[i].prediction, 1e-12, `#${i}`));
  await page.evaluate(() => document.getElementById('view4').scrollIntoView());
  await shot('03b-training-2d.png');
  /* a trained regression model's .hjm is the wrong kind for the certificate view */
  await upload('#cert-file', 'regression.hjm', tr.hjm);
  msg = await page.$eval('#cert-msg', e => e.textContent);
  ok(msg.includes('2-class'), `regression .hjm refused by the certificate view: "${msg}"`);

  /* 7. certificates (view 5) */
  await page.click('#cert-train');
  await page.$eval('#cv-cert', e => e.scrollIntoView({ block: 'center' }));
  const cv = await (await page.$('#cv-cert')).boundingBox();
  let ce;
  for (const [fx, fy] of [[0.3, 0.7], [0.8, 0.25], [0.55, 0.45]]) {
    await page.mouse.click(cv.x + cv.width * fx, cv.y + cv.height * fy);
    ce = await page.evaluate(() => {
      const q = k => document.querySelector(`#cert-values [data-q="${k}"]`).dataset.v;
      return { hjm: document.getElementById('dl-cert').dataset.hjm, x: q('x'), cls: q('class'), ru: q('runner_up'), margin: q('margin'), radius: q('radius') };
    });
    const cp = write('classifier.hjm', ce.hjm);
    const cr = csvRows(hjdl(['certify', cp, '--x', write('cursor.csv', 'x_1,x_2\n' + ce.x + '\n')]))[0];
    ok(Number(ce.cls) === Number(cr.class) && Number(ce.ru) === Number(cr.runner_up), `certify class/runner-up ${ce.cls},${ce.ru} vs ${cr.class},${cr.runner_up}`);
    cmp('certify margin', ce.margin, cr.margin, 1e-12, ce.x);
    cmp('certify radius', ce.radius, cr.radius, 1e-12, ce.x);
    ok(Number(ce.radius) > 0, `certified radius > 0 (${ce.radius})`);
    ok(ce.x !== '0.1,0.3', `clicking the certificate map moved the cursor (${ce.x})`);
  }
  /* a classifier is the wrong kind of .hjm for the atoms loader */
  const beforeBad = (await state()).atomsCsv;
  await upload('#atoms-file', 'classifier.hjm', ce.hjm);
  msg = await page.$eval('#atoms-msg', e => e.textContent);
  ok(msg.length > 0 && (await state()).atomsCsv === beforeBad, `classifier .hjm refused as atoms: "${msg}"`);
  await page.evaluate(() => document.getElementById('view5').scrollIntoView());
  await shot('04-certificates.png');

  /* 8. 2-D: heat map, critical points, basins, bifurcation; drag an atom on the map */
  await page.select('#dim', '2'); await settle();
  await typeInto('#eps-text', '0.3'); await settle();
  s = await state();
  compareState(s, '2d-default', true);
  const before2 = s.atomsCsv;
  await drag('cv-land', 2, 35, 25);
  s = await state();
  ok(s.atomsCsv !== before2, 'dragging moved an atom on the 2-D map');
  compareState(s, '2d-dragged', true);
  await page.evaluate(() => document.getElementById('view3').scrollIntoView());
  await shot('05-2d-landscape.png');

  /* 9. redraw time of a slider move on 200 atoms (1-D and 2-D); not pass/fail */
  const timing = {};
  for (const d of ['1', '2']) {
    await page.select('#dim', d); await page.click('#random200'); await settle();
    await page.evaluate(() => { window.__redrawMs = []; });
    for (let k = 0; k < 30; k++) {
      await page.evaluate(v => { const e = document.getElementById('eps-slider'); e.value = String(v); e.dispatchEvent(new Event('input')); }, 400 + 10 * k);
    }
    const ms = await page.evaluate(() => window.__redrawMs.slice());
    timing[d + 'parts'] = await page.evaluate(() => window.__redrawParts.map(v => v.toFixed(1)).join(' / '));
    await settle();
    timing[d + 'idle'] = await page.evaluate(() => window.__idleMs.toFixed(1));
    ms.sort((a, b) => a - b);
    timing[d] = { n: ms.length, median: ms[Math.floor(ms.length / 2)], max: ms[ms.length - 1] };
    s = await state();
    compareState(s, `${d}d-200atoms`, false);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('06-2d-200atoms.png');

  ok(consoleErrors.length === 0, 'no console error: ' + consoleErrors.join(' | '));

  /* report */
  let table = '| quantity | compared | worst relative difference page vs CLI | tolerance |\n|---|---|---|---|\n';
  for (const [q, w] of worst) table += `| ${q} | ${w.n} | ${w.rel.toExponential(2)} | ${w.tol} |\n`;
  table += `\nRedraw after an eps slider move, 200 atoms (ms, ${timing['1'].n} moves each): ` +
    `1-D median ${timing['1'].median.toFixed(1)}, max ${timing['1'].max.toFixed(1)}; ` +
    `2-D median ${timing['2'].median.toFixed(1)}, max ${timing['2'].max.toFixed(1)}\n` +
    `(last move, ms per view 1 / 2 / 3 / rest: 1-D ${timing['1parts']}; 2-D ${timing['2parts']}; ` +
    `the idle pass after it, full-resolution map: 1-D ${timing['1idle']}, 2-D ${timing['2idle']})\n`;
  fs.writeFileSync(path.join(OUT, 'comparison.md'), table);
  console.log(table);
}

main().catch(e => { failed++; console.log('FAIL: ' + (e.stack || e)); }).finally(() => {
  fs.rmSync(TMP, { recursive: true, force: true });
  console.log(`explorer: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
});

// forksim replay page: plays back one run from the data embedded above. No network access,
// no libraries. Virtual time `t` is in milliseconds; everything drawn depends only on `t`.
(function () {
  'use strict';
  const D = JSON.parse(document.getElementById('forksim-data').textContent);
  const $ = (id) => document.getElementById(id);
  const N = D.names.length;
  const S = D.slots || null; // pos-slot and dpos: the slot strip's data
  const GENESIS_COLOUR = '#d9d9d9';
  const CARRIES_BLOCK = [false, false, false, true, true, false, true];

  // ----- decoding: undo the differences of the sorted times -----
  function column(flat, stride, col) {
    const out = new Float64Array(flat.length / stride);
    for (let i = 0, j = col; j < flat.length; i++, j += stride) out[i] = flat[j];
    return out;
  }
  function accumulate(a) {
    for (let i = 1; i < a.length; i++) a[i] += a[i - 1];
    return a;
  }
  const tipT = accumulate(column(D.tips, 3, 0));
  const tipNode = column(D.tips, 3, 1);
  const tipBlock = column(D.tips, 3, 2);
  const mSent = accumulate(column(D.msgs, 5, 0));
  const mDur = column(D.msgs, 5, 1);
  const mLink = column(D.msgs, 5, 2);
  const mKind = column(D.msgs, 5, 3);
  const mBlock = column(D.msgs, 5, 4);
  const M = mSent.length;
  const mArr = new Float64Array(M);
  const mMaxArr = new Float64Array(M); // running maximum of arrival times: sorted
  for (let i = 0; i < M; i++) {
    mArr[i] = mSent[i] + mDur[i];
    mMaxArr[i] = Math.max(mArr[i], i ? mMaxArr[i - 1] : 0);
  }
  const lineT = accumulate(Float64Array.from(D.lines.t));
  const lineImportant = new Int32Array(lineT.length + 1); // prefix counts of non-routine lines
  for (let i = 0; i < lineT.length; i++) lineImportant[i + 1] = lineImportant[i] + (D.lines.k[i] !== 1 ? 1 : 0);
  const B = D.blocks.t.length;
  const blockT = Float64Array.from(D.blocks.t);
  const isMiner = new Uint8Array(N);
  for (const m of D.miners) isMiner[m] = 1;

  // First index whose value is > x (arrays sorted ascending).
  function upper(a, x) {
    let lo = 0, hi = a.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid] <= x) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function fmt(ms) {
    ms = Math.max(0, Math.round(ms));
    const h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
    return h + ':' + String(m).padStart(2, '0') + ':' + String(s).padStart(2, '0') + '.' + String(ms % 1000).padStart(3, '0');
  }
  function blockColour(b) {
    return b === 0 ? GENESIS_COLOUR : D.palette[D.slot[D.blocks.miner[b]]];
  }
  function label(b) { return '#' + D.blocks.height[b] + ' [' + D.blocks.hash[b] + ']'; }

  // ----- state -----
  let t = 0, playing = false, dirty = true;
  const tip = new Int32Array(N); // each node's tip, as a block index
  let tipsApplied = 0, tipsAt = 0;
  function tipsTo(time) {
    if (time < tipsAt) { tip.fill(0); tipsApplied = 0; }
    while (tipsApplied < tipT.length && tipT[tipsApplied] <= time) {
      tip[tipNode[tipsApplied]] = tipBlock[tipsApplied];
      tipsApplied++;
    }
    tipsAt = time;
  }
  const stats = { frames: [], work: [], treeBlocks: 0, events: 0, time: 0, playing: false };
  window.forksimStats = stats;
  window.forksimData = D;
  window.forksimSeek = function (ms) { seek(ms); };

  // ----- static parts -----
  $('headline').textContent = D.headline;
  const slider = $('slider');
  slider.max = String(D.end);
  const notes = [];
  if (D.msg_cut !== null) notes.push('Messages are animated until ' + fmt(D.msg_cut) + ': the run sent more than the page keeps. Run fewer blocks or nodes to see them all.');
  if (D.line_cut !== null) notes.push('Routine lines (a node building on a block) stop at ' + fmt(D.line_cut) + '; found blocks, forks and reorgs are all listed.');
  $('notes').textContent = notes.join(' ');

  (function legend() {
    const el = $('legend');
    const group = (title) => { const g = document.createElement('span'); g.className = 'group'; g.innerHTML = '<b>' + title + '</b>'; el.appendChild(g); return g; };
    const item = (g, cls, colour, text) => {
      const s = document.createElement('span');
      if (cls !== null) {
        const w = document.createElement('span');
        w.className = 'swatch ' + cls;
        if (colour) w.style.background = colour;
        s.appendChild(w);
      }
      s.appendChild(document.createTextNode(text));
      g.appendChild(s);
    };
    const miners = group(S ? 'producers:' : 'miners:');
    for (const [text, slot] of D.legend) item(miners, '', D.palette[slot], text);
    const nodes = group('nodes:');
    item(nodes, null, null, 'colour = miner of the node\u2019s tip block;');
    item(nodes, 'faded', '#1f77b4', 'behind the highest tip');
    item(nodes, '', GENESIS_COLOUR, 'still on genesis');
    item(nodes, 'square', '#888', 'miner');
    item(nodes, '', '#888', 'relay only');
    item(nodes, 'ring', null, 'tip on a branch that ends stale');
    const msgs = group('messages:');
    item(msgs, 'outlined', '#888', 'block, compact block or missing transactions (colour of the block\u2019s miner)');
    item(msgs, 'small', '#3c3c3c', 'inv, getdata and other announcements and requests');
  })();

  // ----- network canvas -----
  const net = $('network');
  const nctx = net.getContext('2d');
  const background = document.createElement('canvas');
  function setupCanvas(canvas, ctx, w, h) {
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }
  function drawBackground() {
    const dpr = window.devicePixelRatio || 1;
    background.width = Math.round(D.width * dpr); background.height = Math.round(D.height * dpr);
    const g = background.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.strokeStyle = N > 300 ? 'rgba(0,0,0,0.035)' : N > 30 ? 'rgba(0,0,0,0.07)' : 'rgba(0,0,0,0.25)';
    g.lineWidth = N > 30 ? 0.7 : 1.5;
    g.beginPath();
    for (let i = 0; i < D.edges.length; i += 2) {
      const a = D.edges[i], b = D.edges[i + 1];
      g.moveTo(D.x[a], D.y[a]); g.lineTo(D.x[b], D.y[b]);
    }
    g.stroke();
    g.fillStyle = '#555'; g.font = '600 14px system-ui, sans-serif'; g.textAlign = 'center';
    for (const [name, x, y] of D.regions) g.fillText(name, x, y);
  }
  setupCanvas(net, nctx, D.width, D.height);
  drawBackground();

  function linkEnds(link) {
    const e = (link >> 1) * 2;
    const a = D.edges[e], b = D.edges[e + 1];
    return (link & 1) ? [b, a] : [a, b];
  }
  // Requests and announcements as small grey dots; messages carrying a block as larger
  // dots with a dark outline, in the colour of the block's miner (so rival blocks of a fork
  // race visibly).
  function drawMessages(ctx, carrying) {
    const lo = upper(mMaxArr, t), hi = upper(mSent, t);
    const paths = new Map();
    const r = carrying ? Math.max(3, D.radius * 0.55) : Math.max(1.6, D.radius * 0.28);
    for (let i = lo; i < hi; i++) {
      if (mArr[i] <= t || CARRIES_BLOCK[mKind[i]] !== carrying) continue;
      const [a, b] = linkEnds(mLink[i]);
      const f = mDur[i] > 0 ? (t - mSent[i]) / mDur[i] : 1;
      const x = D.x[a] + (D.x[b] - D.x[a]) * f, y = D.y[a] + (D.y[b] - D.y[a]) * f;
      const colour = carrying ? blockColour(mBlock[i]) : 'rgba(60,60,60,0.7)';
      let path = paths.get(colour);
      if (!path) { path = new Path2D(); paths.set(colour, path); }
      path.moveTo(x + r, y); path.arc(x, y, r, 0, 2 * Math.PI);
    }
    for (const [colour, path] of paths) {
      ctx.fillStyle = colour; ctx.fill(path);
      if (carrying) { ctx.lineWidth = 1.5; ctx.strokeStyle = '#000'; ctx.stroke(path); }
    }
  }
  // The height of the highest tip any node holds at the current time.
  function highestTip() {
    let highest = 0;
    for (let v = 0; v < N; v++) highest = Math.max(highest, D.blocks.height[tip[v]]);
    return highest;
  }
  function drawNetwork(highest) {
    const ctx = nctx;
    ctx.clearRect(0, 0, D.width, D.height);
    ctx.drawImage(background, 0, 0, D.width, D.height);
    drawMessages(ctx, false);
    // Blocks found in the last moments: a ring spreading from the miner.
    const pulse = Math.max(1500, 800 * speed());
    for (let b = upper(blockT, t - pulse); b < B && blockT[b] <= t; b++) {
      if (b === 0) continue;
      const m = D.blocks.miner[b], f = (t - blockT[b]) / pulse;
      ctx.beginPath(); ctx.arc(D.x[m], D.y[m], D.radius + 4 + 30 * f, 0, 2 * Math.PI);
      ctx.strokeStyle = blockColour(b); ctx.globalAlpha = 1 - f; ctx.lineWidth = 3; ctx.stroke();
      ctx.globalAlpha = 1;
    }
    const r = D.radius;
    // Nodes behind the highest tip are faded, so a block's spread shows even when the
    // same miner found the block before.
    for (let v = 0; v < N; v++) {
      const b = tip[v], x = D.x[v], y = D.y[v];
      ctx.beginPath();
      if (isMiner[v]) ctx.rect(x - r, y - r, 2 * r, 2 * r); else ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = blockColour(b);
      ctx.globalAlpha = D.blocks.height[b] < highest ? 0.35 : 1;
      ctx.fill();
      ctx.globalAlpha = 1;
      if (D.blocks.main[b]) { ctx.setLineDash([]); ctx.lineWidth = r > 6 ? 1.5 : 0.8; ctx.strokeStyle = '#333'; }
      else { ctx.setLineDash([3, 2]); ctx.lineWidth = 2; ctx.strokeStyle = '#000'; }
      ctx.stroke();
      ctx.setLineDash([]);
    }
    drawMessages(ctx, true);
    if (D.labels) {
      ctx.textAlign = 'center';
      for (let v = 0; v < N; v++) {
        const below = D.y[v] >= D.height / 2;
        ctx.fillStyle = '#111'; ctx.font = '600 15px system-ui, sans-serif';
        ctx.fillText(D.names[v], D.x[v], D.y[v] + (below ? r + 18 : -r - 22));
        ctx.fillStyle = '#555'; ctx.font = '12px system-ui, sans-serif';
        ctx.fillText('tip ' + label(tip[v]), D.x[v], D.y[v] + (below ? r + 33 : -r - 8));
      }
    }
  }

  // Hover: name, region and tip of the node under the pointer.
  const tooltip = $('tooltip');
  net.addEventListener('mousemove', (e) => {
    const rect = net.getBoundingClientRect();
    const x = (e.clientX - rect.left) * D.width / rect.width, y = (e.clientY - rect.top) * D.height / rect.height;
    let best = -1, bestD = (D.radius + 5) * (D.radius + 5);
    for (let v = 0; v < N; v++) {
      const d = (D.x[v] - x) ** 2 + (D.y[v] - y) ** 2;
      if (d <= bestD) { best = v; bestD = d; }
    }
    if (best < 0) { tooltip.hidden = true; return; }
    const region = D.region_names.length > 1 ? ' (' + D.region_names[D.region[best]].replace(/_/g, ' ') + ')' : '';
    tooltip.textContent = D.names[best] + region + (isMiner[best] ? ', miner' : '') + ': tip ' + label(tip[best]);
    tooltip.style.left = (e.clientX - rect.left + 12) + 'px';
    tooltip.style.top = (e.clientY - rect.top + 12) + 'px';
    tooltip.hidden = false;
  });
  net.addEventListener('mouseleave', () => { tooltip.hidden = true; });

  // ----- block tree canvas -----
  const treeCanvas = $('tree');
  const tctx = treeCanvas.getContext('2d');
  const LANE = 30, COL = 30, PAD = 24;
  let treeW = 0;
  const treeH = PAD * 2 + 14 + (Math.max(1, D.blocks.lanes) - 1) * LANE;
  function sizeTree() {
    treeW = Math.max(300, treeCanvas.clientWidth || 1000);
    treeCanvas.style.height = treeH + 'px';
    setupCanvas(treeCanvas, tctx, treeW, treeH);
    dirty = true;
  }
  function drawTree(count) {
    const ctx = tctx;
    ctx.clearRect(0, 0, treeW, treeH);
    let top = 0;
    for (let b = 0; b < count; b++) top = Math.max(top, D.blocks.height[b]);
    const visible = Math.max(2, Math.floor((treeW - 2 * PAD) / COL));
    const first = Math.max(0, top - visible + 2);
    const X = (h) => PAD + (h - first) * COL + COL / 2;
    const Y = (lane) => treeH - PAD - 10 - lane * LANE;
    ctx.lineWidth = 2; ctx.strokeStyle = 'rgba(0,0,0,0.35)';
    for (let b = 1; b < count; b++) {
      const h = D.blocks.height[b];
      if (h < first) continue;
      const p = D.blocks.parent[b];
      const x0 = X(h - 1), y0 = Y(D.blocks.lane[p]), x1 = X(h), y1 = Y(D.blocks.lane[b]);
      ctx.beginPath(); ctx.moveTo(x0, y0);
      if (y0 !== y1) ctx.lineTo(x0 + COL / 2, y1);
      ctx.lineTo(x1, y1);
      ctx.strokeStyle = D.blocks.main[b] ? '#222' : 'rgba(0,0,0,0.35)';
      ctx.lineWidth = D.blocks.main[b] ? 3 : 2;
      ctx.stroke();
    }
    const labelEvery = COL >= 28 ? (top - first > 40 ? 5 : 1) : 5;
    ctx.textAlign = 'center'; ctx.font = '11px system-ui, sans-serif';
    for (let b = 0; b < count; b++) {
      const h = D.blocks.height[b];
      if (h < first) continue;
      const x = X(h), y = Y(D.blocks.lane[b]), main = D.blocks.main[b];
      ctx.beginPath(); ctx.arc(x, y, main ? 10 : 9, 0, 2 * Math.PI);
      ctx.fillStyle = b === 0 ? '#000' : blockColour(b);
      ctx.globalAlpha = main ? 1 : 0.55; ctx.fill(); ctx.globalAlpha = 1;
      if (main) { ctx.lineWidth = 2; ctx.strokeStyle = '#000'; ctx.stroke(); }
      if (b === count - 1 && b > 0) { ctx.beginPath(); ctx.arc(x, y, 14, 0, 2 * Math.PI); ctx.lineWidth = 2; ctx.strokeStyle = '#e6550d'; ctx.stroke(); }
      if (main && (h % labelEvery === 0 || h === first)) { ctx.fillStyle = '#333'; ctx.fillText(String(h), x, y + 24); }
    }
    if (first > 0) { ctx.fillStyle = '#666'; ctx.textAlign = 'left'; ctx.fillText('\u2190 ' + first + ' earlier heights', 4, 12); }
  }

  // ----- slot strip (pos-slot and dpos): one cell per slot, coloured by its blocks -----
  const slotCanvas = $('slots');
  const sctx = slotCanvas.getContext('2d');
  const CELL = 16, SROW = 24, SPAD = 6, SBAND = 5;
  const slotH = SPAD + SROW + 2 + SBAND + 30;
  let slotW = 0, slotFirst = 0, slotVisible = 0;
  const slotBlocks = new Map(); // slot -> block indices, in mining order
  const missedBy = new Map(); // slot -> the producer that missed it
  let libT = new Float64Array(0), libH = new Float64Array(0);
  if (S) {
    $('slots-panel').hidden = false;
    for (let b = 1; b < B; b++) {
      let l = slotBlocks.get(S.block[b]);
      if (!l) { l = []; slotBlocks.set(S.block[b], l); }
      l.push(b);
    }
    for (let i = 0; i < S.missed.length; i += 2) missedBy.set(S.missed[i], S.missed[i + 1]);
    libT = column(S.irreversible, 2, 0); libH = column(S.irreversible, 2, 1);
    const len = S.len_us >= 1000000 ? (S.len_us / 1000000) + ' s' : (S.len_us / 1000) + ' ms';
    $('slots-hint').textContent = S.kind === 'pos-slot'
      ? 'one cell per slot of ' + len + ', in the colour of each leader\u2019s block (two colours: two leaders, the seed of a fork); grey: no leader (every VRF output above its threshold); faded: the block went stale; dark bar: final (' + S.final_depth + ' blocks below the highest tip)'
      : 'one cell per slot of ' + len + ', in the colour of the scheduled producer\u2019s block; red cross: the producer missed its slot; faded: the block went stale; dark bar: irreversible (more than 2/3 of the ' + S.producers + ' producers built on it)';
  }
  // The slot under way at virtual time `time` (ms); negative before the first.
  function slotAt(time) { return S ? Math.floor(time * 1000 / S.len_us) - S.offset : 0; }
  function slotStart(s) { return (s + S.offset) * S.len_us / 1000; }
  // The height up to which main-chain blocks are final at time `t` by the kind's own rule
  // (k below the highest tip; the newest irreversible block), or -1.
  function finalHeightAt(highest) {
    if (S.kind === 'pos-slot') return highest - S.final_depth;
    const i = upper(libT, t) - 1;
    return i >= 0 ? libH[i] : -1;
  }
  function sizeSlots() {
    if (!S) return;
    slotW = Math.max(300, slotCanvas.clientWidth || 1000);
    slotCanvas.style.height = slotH + 'px';
    setupCanvas(slotCanvas, sctx, slotW, slotH);
    dirty = true;
  }
  function drawSlots(highest) {
    if (!S) return;
    const ctx = sctx;
    ctx.clearRect(0, 0, slotW, slotH);
    const cur = slotAt(t);
    slotVisible = Math.max(4, Math.floor((slotW - 2 * SPAD) / CELL));
    slotFirst = Math.max(0, cur - slotVisible + 2); // the slot under way second from the right
    const finalHeight = finalHeightAt(highest);
    const counts = { shown: 0, filled: 0, empty: 0, missed: 0, final: 0, current: cur };
    ctx.font = '10px system-ui, sans-serif'; ctx.textAlign = 'center';
    for (let s = slotFirst; s < slotFirst + slotVisible; s++) {
      const x = SPAD + (s - slotFirst) * CELL, y = SPAD, w = CELL - 2;
      ctx.strokeStyle = '#ccc'; ctx.lineWidth = 1; ctx.setLineDash([]);
      if (s > cur) { ctx.strokeRect(x + 0.5, y + 0.5, w - 1, SROW - 1); continue; }
      counts.shown++;
      const made = (slotBlocks.get(s) || []).filter((b) => blockT[b] <= t);
      if (made.length) {
        counts.filled++;
        const part = w / made.length;
        let final = false;
        made.forEach((b, i) => {
          ctx.globalAlpha = D.blocks.main[b] ? 1 : 0.4;
          ctx.fillStyle = blockColour(b);
          ctx.fillRect(x + i * part, y, part, SROW);
          ctx.globalAlpha = 1;
          if (D.blocks.main[b] && D.blocks.height[b] <= finalHeight) final = true;
        });
        if (final) { counts.final++; ctx.fillStyle = '#222'; ctx.fillRect(x, y + SROW + 2, w, SBAND); }
      } else if (missedBy.has(s) && s < cur) {
        counts.missed++;
        ctx.strokeStyle = '#d62728'; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(x + 3, y + 3); ctx.lineTo(x + w - 3, y + SROW - 3);
        ctx.moveTo(x + w - 3, y + 3); ctx.lineTo(x + 3, y + SROW - 3); ctx.stroke();
      } else if (s < cur) {
        counts.empty++;
        ctx.fillStyle = '#e4e4e4'; ctx.fillRect(x, y, w, SROW);
      }
      if (s % 10 === 0) { ctx.fillStyle = '#555'; ctx.fillText(String(s), x + w / 2, y + SROW + SBAND + 14); }
    }
    if (cur >= slotFirst) {
      const x = SPAD + (cur - slotFirst) * CELL;
      ctx.strokeStyle = '#e6550d'; ctx.lineWidth = 2; ctx.strokeRect(x - 1, SPAD - 2, CELL, SROW + 4);
    }
    // Where finality stands, which may lie left of the strip (EOS: about 14 turns behind).
    ctx.textAlign = 'left'; ctx.fillStyle = '#222'; ctx.font = '11px system-ui, sans-serif';
    const word = S.kind === 'pos-slot' ? 'final' : 'irreversible';
    ctx.fillText(finalHeight > 0
      ? word + ' up to height ' + finalHeight + ', ' + (highest - finalHeight) + ' blocks below the highest tip (' + highest + ')'
      : 'no block ' + word + ' yet (highest tip: height ' + highest + ')', SPAD, slotH - 4);
    counts.finalHeight = finalHeight;
    stats.slots = counts;
  }
  // Hover: what happened in the slot under the pointer.
  const slotTip = $('slots-tip');
  slotCanvas.addEventListener('mousemove', (e) => {
    const rect = slotCanvas.getBoundingClientRect();
    const s = slotFirst + Math.floor((e.clientX - rect.left - SPAD) / CELL);
    if (!S || s < slotFirst || s >= slotFirst + slotVisible || s > slotAt(t)) { slotTip.hidden = true; return; }
    const made = (slotBlocks.get(s) || []).filter((b) => blockT[b] <= t);
    let text = 'slot ' + s + ' (from ' + fmt(slotStart(s)) + '): ';
    if (made.length) {
      text += made.map((b) => D.names[D.blocks.miner[b]] + ' made block ' + label(b) + (D.blocks.main[b] ? '' : ' (stale)')).join('; ');
    } else if (missedBy.has(s)) {
      text += 'producer ' + D.names[missedBy.get(s)] + ' missed it';
    } else {
      text += s < slotAt(t) ? (S.kind === 'pos-slot' ? 'no leader' : 'no block') : 'under way';
    }
    slotTip.textContent = text;
    slotTip.style.left = (e.clientX - rect.left + 12) + 'px';
    slotTip.style.top = (e.clientY - rect.top + 12) + 'px';
    slotTip.hidden = false;
  });
  slotCanvas.addEventListener('mouseleave', () => { slotTip.hidden = true; });

  // ----- events panel -----
  const list = $('events');
  const KEEP_LINES = 400;
  let shownUpTo = -1, shownImportant = null;
  function important() { return $('important').checked; }
  function lineItem(i) {
    const li = document.createElement('li');
    li.className = 'k' + D.lines.k[i];
    li.textContent = D.lines.text[i];
    return li;
  }
  function updateEvents(count) {
    const only = important();
    if (count === shownUpTo && only === shownImportant) return;
    const keep = (i) => !only || D.lines.k[i] !== 1;
    if (only === shownImportant && count > shownUpTo && count - shownUpTo < KEEP_LINES) {
      for (let i = Math.max(0, shownUpTo); i < count; i++) if (keep(i)) list.appendChild(lineItem(i));
      while (list.childElementCount > KEEP_LINES) list.removeChild(list.firstElementChild);
    } else {
      const items = [];
      for (let i = count - 1; i >= 0 && items.length < KEEP_LINES; i--) if (keep(i)) items.push(lineItem(i));
      list.replaceChildren(...items.reverse());
    }
    const previous = list.querySelector('li.latest');
    if (previous) previous.classList.remove('latest');
    if (list.lastElementChild) list.lastElementChild.classList.add('latest');
    list.scrollTop = list.scrollHeight;
    shownUpTo = count; shownImportant = only;
  }
  $('important').addEventListener('change', () => { dirty = true; });

  // ----- playback -----
  const playButton = $('play');
  function speed() { return Number($('speed').value); }
  function setPlaying(on) {
    if (on && t >= D.end) seek(0);
    playing = on;
    playButton.innerHTML = on ? '&#10074;&#10074; Pause' : '&#9654; Play';
    dirty = true;
  }
  function seek(ms) { t = Math.min(Math.max(0, ms), D.end); dirty = true; }
  // Inside a busy stretch, or the start of the next one (Infinity if none).
  function nextBusy(time) {
    const b = D.busy;
    let lo = 0, hi = b.length / 2;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (b[2 * mid + 1] < time) lo = mid + 1; else hi = mid; }
    if (lo >= b.length / 2) return Infinity;
    return Math.max(time, b[2 * lo]);
  }
  function advance(dt) {
    dt = Math.min(dt, 100); // a background tab must not jump ahead
    const step = speed() * dt;
    let next = t + step;
    if ($('skip').checked) {
      const busy = nextBusy(t);
      if (busy > t) {
        const target = busy === Infinity ? D.end : busy;
        next = Math.min(target, t + Math.max(step, (target - t) * Math.min(1, dt / 200) + 1));
        if (target - next < 1) next = target;
      }
    }
    t = Math.min(next, D.end);
    if (t >= D.end) setPlaying(false);
    dirty = true;
  }
  playButton.addEventListener('click', () => setPlaying(!playing));
  slider.addEventListener('input', () => seek(Number(slider.value)));
  $('speed').addEventListener('change', () => { dirty = true; });
  document.addEventListener('keydown', (e) => {
    if (e.code === 'Space' && e.target === document.body) { e.preventDefault(); setPlaying(!playing); }
  });
  window.addEventListener('resize', () => { sizeTree(); sizeSlots(); });

  function draw() {
    tipsTo(t);
    const blocks = upper(blockT, t);
    const lines = upper(lineT, t);
    const highest = highestTip();
    drawNetwork(highest);
    drawTree(blocks);
    drawSlots(highest);
    updateEvents(lines);
    slider.value = String(Math.round(t));
    let stale = 0;
    for (let b = 1; b < blocks; b++) stale += D.blocks.main[b] ? 0 : 1;
    $('clock').textContent = fmt(t) + ' / ' + fmt(D.end) + '  \u2022  ' + (blocks - 1) + ' blocks (' + stale + ' stale)';
    stats.treeBlocks = blocks;
    stats.events = important() ? lineImportant[lines] : lines;
  }

  let last = null;
  function frame(now) {
    const start = performance.now();
    if (last !== null) {
      stats.frames.push(now - last);
      if (stats.frames.length > 3000) stats.frames.shift();
      if (playing) advance(now - last);
    }
    last = now;
    if (dirty) { draw(); dirty = false; }
    stats.time = t;
    stats.playing = playing;
    stats.work.push(performance.now() - start);
    if (stats.work.length > 3000) stats.work.shift();
    requestAnimationFrame(frame);
  }
  // A link may name a moment: replay.html#t=95.5 opens 95.5 s into the run.
  const linked = /^#t=([0-9.]+)$/.exec(window.location.hash);
  if (linked) seek(Number(linked[1]) * 1000);
  sizeTree();
  sizeSlots();
  requestAnimationFrame(frame);
})();

// declared officer console.  Plain JavaScript, no dependencies, no inline
// code (the daemon serves it with a strict Content-Security-Policy).  Data
// from the server is only ever written with textContent, never as HTML.
'use strict';

// The actions an officer may take in each state: a copy of the daemon's
// state machine (lib/lifecycle.c), used only to grey out buttons; the
// daemon decides, and answers 409 for anything else.
const ACTIONS = {
  accepted: ['release', 'hold', 'require_documents', 'inspect', 'reject'],
  documents_required: ['release', 'hold', 'inspect', 'reject'],
  inspection: ['release', 'hold'],
  held: ['release', 'reject'],
};
const OPEN_STATES = ['accepted', 'documents_required', 'inspection', 'held'];
const STATS_EVERY_MS = 5000;

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) tr.appendChild(c instanceof Node ? c : el('td', c));
  return tr;
}

function say(id, text, kind) {
  const m = $(id);
  m.textContent = text || '';
  m.className = 'message' + (kind ? ' ' + kind : '');
}

// fetch + JSON; throws an Error carrying status and the server's body.
async function api(path, options) {
  const r = await fetch(path, Object.assign({ credentials: 'same-origin' }, options));
  const type = r.headers.get('Content-Type') || '';
  const body = type.includes('json') ? await r.json() : await r.text();
  if (!r.ok) {
    const err = new Error((body && body.message) || ('HTTP ' + r.status));
    err.status = r.status;
    err.body = body;
    throw err;
  }
  return body;
}

function when(ts) {
  return ts ? ts.replace('T', ' ').replace(/\.\d+Z$/, '').replace(/Z$/, '') : '';
}

// ---- live counters ----

async function refreshStats() {
  try {
    const s = await api('/v1/stats');
    const q = $('queues');
    q.replaceChildren();
    for (const st of OPEN_STATES) {
      const c = el('div', null, 'counter st-' + st);
      c.id = 'count-' + st;
      c.appendChild(el('b', (s.open && s.open[st]) || 0));
      c.appendChild(el('span', st.replace('_', ' ')));
      q.appendChild(c);
    }
    const m = s.per_minute || [];
    const last = m.length ? m[m.length - 1] : { received: 0, decided: 0 };
    const sum = m.reduce((a, x) => a + x.received, 0);
    const day = s.by_status || {};
    $('rate').textContent = `received: ${last.received} this minute, ` +
      `${sum} in ${m.length} min · decided: ${last.decided} this minute · ` +
      `last ${s.window_hours} h: ${day.released || 0} released, ` +
      `${day.rejected || 0} rejected`;
    $('asof').textContent = 'as of ' + when(s.as_of) + (!s.replica ? '' :
      s.replica.source === 'replica'
        ? ` · replica lag ${s.replica.lag_s === null ? '?' : s.replica.lag_s.toFixed(3)} s`
        : ' · replica down: read from the primary');
  } catch (e) {
    $('asof').textContent = 'counters unavailable: ' + e.message;
  }
}

// ---- search ----

let nextCursor = null;

function searchParams() {
  const p = new URLSearchParams();
  for (const [k, v] of new FormData($('search-form'))) {
    if (String(v).trim() !== '') p.set(k, String(v).trim());
  }
  return p;
}

function resultRow(d) {
  const tr = row([
    when(d.received_at), d.id, d.lrn, d.declarant, d.mrn || '',
    el('td', d.status, 'st-' + d.status), el('td', d.lane || '', 'lane-' + d.lane),
    el('td', d.item_count, 'num'), el('td', (d.hs_codes || []).join(' '), 'codes'),
    (d.origins || []).join(' '),
  ]);
  tr.dataset.id = d.id;
  tr.tabIndex = 0;
  tr.addEventListener('click', () => { location.hash = '#/d/' + d.id; });
  tr.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') location.hash = '#/d/' + d.id;
  });
  return tr;
}

async function runSearch(more) {
  const p = searchParams();
  if (more && nextCursor) p.set('cursor', nextCursor);
  say('search-message', 'searching…');
  try {
    const page = await api('/v1/declarations?' + p.toString());
    const body = $('results-body');
    if (!more) body.replaceChildren();
    for (const d of page.items) body.appendChild(resultRow(d));
    nextCursor = page.next_cursor;
    $('next-page').hidden = !nextCursor;
    const n = body.children.length;
    say('search-message', n === 0 ? 'no declaration matches' :
      `${n} declaration${n === 1 ? '' : 's'} shown` + (nextCursor ? ', more on the next page' : ''));
  } catch (e) {
    say('search-message', 'search failed: ' + e.message, 'error');
  }
}

// ---- one declaration ----

let current = null;

function text(node, name) {
  const e = node.getElementsByTagNameNS('*', name)[0];
  return e ? e.textContent.trim() : '';
}

// The items as the signed document states them.
async function loadItems(id) {
  const tbody = $('d-items').tBodies[0];
  tbody.replaceChildren();
  try {
    const r = await fetch('/v1/declarations/' + encodeURIComponent(id) + '/xml',
      { credentials: 'same-origin' });
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const doc = new DOMParser().parseFromString(await r.text(), 'application/xml');
    if (doc.getElementsByTagName('parsererror').length) throw new Error('unreadable XML');
    const items = doc.getElementsByTagNameNS('*', 'GovernmentAgencyGoodsItem');
    for (const it of items) {
      const cls = it.getElementsByTagNameNS('*', 'Classification')[0];
      const org = it.getElementsByTagNameNS('*', 'Origin')[0];
      tbody.appendChild(row([
        text(it, 'SequenceNumeric'), el('td', cls ? text(cls, 'ID') : '', 'codes'),
        text(it, 'Description'), org ? text(org, 'CountryCode') : '',
        el('td', text(it, 'GrossMassMeasure'), 'num'),
        el('td', text(it, 'NetNetWeightMeasure'), 'num'),
        el('td', text(it, 'CustomsValueAmount') || text(it, 'ItemChargeAmount'), 'num'),
      ]));
    }
    if (items.length === 0) tbody.appendChild(row(['', '', 'no items in the document']));
  } catch (e) {
    tbody.appendChild(row(['', '', 'items unavailable: ' + e.message]));
  }
}

function facts(d) {
  const dl = $('d-facts');
  dl.replaceChildren();
  const add = (k, v) => {
    if (v === undefined || v === null || v === '') return;
    dl.appendChild(el('dt', k));
    dl.appendChild(el('dd', v));
  };
  add('LRN', d.lrn);
  add('MRN', d.mrn);
  add('Declarant', d.declarant);
  add('Submitted by', d.submitter);
  add('Type', d.type_code);
  add('Items', d.item_count);
  add('HS codes', (d.hs_codes || []).join(' '));
  add('Invoice', d.invoice_amount ? `${d.invoice_amount} ${d.currency || ''}` : '');
  add('Received', when(d.received_at));
  add('Updated', when(d.updated_at));
  add('Version', d.version);
}

function showDeclaration(d) {
  current = d;
  $('d-id').textContent = d.id;
  $('d-status').textContent = d.status;
  $('d-status').className = 'badge st-' + d.status;
  $('d-lane').textContent = d.lane ? d.lane + ' lane' : 'no lane';
  $('d-lane').className = 'badge lane-' + d.lane;
  $('d-xml').href = '/v1/declarations/' + encodeURIComponent(d.id) + '/xml';
  facts(d);
  const allowed = ACTIONS[d.status] || [];
  for (const b of $('d-actions').querySelectorAll('button')) {
    b.disabled = !allowed.includes(b.dataset.action);
  }
  const h = $('d-history').tBodies[0];
  h.replaceChildren();
  for (const e of d.history || []) {
    h.appendChild(row([when(e.at), e.actor, e.from || '', e.to, e.reason || '']));
  }
  const a = $('d-acks').tBodies[0];
  a.replaceChildren();
  for (const k of d.acks || []) a.appendChild(row([k.seq, k.party, k.kind, when(k.created_at)]));
}

async function openDeclaration(id) {
  $('search-view').hidden = true;
  $('decl-view').hidden = false;
  say('d-message', 'loading…');
  try {
    showDeclaration(await api('/v1/declarations/' + encodeURIComponent(id)));
    say('d-message', '');
    await loadItems(id);
  } catch (e) {
    say('d-message', 'cannot load declaration ' + id + ': ' + e.message, 'error');
  }
}

async function decide(action) {
  if (!current) return;
  const id = current.id;
  const reason = $('d-reason').value.trim();
  for (const b of $('d-actions').querySelectorAll('button')) b.disabled = true;
  say('d-message', action + '…');
  try {
    const r = await api('/v1/declarations/' + encodeURIComponent(id) + '/decision', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ action, reason }),
    });
    $('d-reason').value = '';
    showDeclaration(await api('/v1/declarations/' + encodeURIComponent(id)));
    say('d-message', `${r.action}: ${r.from} → ${r.to}; acknowledgement ` +
      `#${r.ack_seq} queued for the enterprise`, 'ok');
    refreshStats();
  } catch (e) {
    const state = e.body && e.body.state ? ` (state: ${e.body.state})` : '';
    say('d-message', `${action} refused: ${e.message}${state}`, 'error');
    try {
      showDeclaration(await api('/v1/declarations/' + encodeURIComponent(id)));
    } catch (e2) { /* keep the old view */ }
  }
}

// ---- routing ----

function route() {
  const m = location.hash.match(/^#\/d\/([0-9]+)$/);
  if (m) {
    openDeclaration(m[1]);
  } else {
    current = null;
    $('decl-view').hidden = true;
    $('search-view').hidden = false;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    runSearch(false);
  });
  $('search-form').addEventListener('reset', () => {
    setTimeout(() => runSearch(false), 0);
  });
  $('next-page').addEventListener('click', () => runSearch(true));
  for (const b of $('d-actions').querySelectorAll('button')) {
    b.addEventListener('click', () => decide(b.dataset.action));
  }
  window.addEventListener('hashchange', route);
  route();
  runSearch(false);
  refreshStats();
  setInterval(refreshStats, STATS_EVERY_MS);
});

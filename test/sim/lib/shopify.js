'use strict';
// Shopify Admin REST API 2024-10 orders.json (doc/sync_protocol.md "Shopify").
//
// Pages are keyset cursors on (updated_at, id) ascending, carried in the
// Link header as page_info (base64url JSON, as Shopify's look).  The
// filters live in the cursor: with page_info only limit (and fields) may
// be sent, anything else is a 400 as on Shopify.  status defaults to open,
// as on Shopify, so a client that forgets status=any loses closed and
// cancelled orders.

const path = require('node:path');
const crypto = require('node:crypto');
const { json } = require('./http');
const mk = require('./market');
const { makeTemplate, instantiate } = require('./gen');
const time = require('./time');
const { scaleDecimal } = require('./money');

const M = 'shopify';
const VERSION = '2024-10';
const DECIMAL_RE = /^-?\d+\.\d+$/;

let templates = [];
let leanTemplates = [];

function load(dir) {
  templates = [];
  for (const f of ['orders_page1.json', 'orders_page2.json']) {
    for (const o of mk.readJson(path.join(dir, M, f)).orders) {
      templates.push(makeTemplate(String(o.id), { order: o }, time.parseIso(o.created_at), time.parseIso(o.updated_at),
        { nitems: o.line_items.length }));
    }
  }
  leanTemplates = templates.filter((t) => t.nitems === 1);
}

function validate(spec) {
  for (const k of ['shop_domain', 'access_token']) {
    if (typeof spec.credentials[k] !== 'string' || !spec.credentials[k]) return `credentials.${k} is required`;
  }
  return null;
}

function identity(acc) {
  return acc.credentials.access_token;
}

const MESSAGES = {
  401: '[API] Invalid API key or access token (unrecognized login or wrong password)',
  404: 'Not Found',
  429: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
  500: 'Internal Server Error',
  503: 'Unavailable Shop',
};

function error(status, message) {
  return {
    body: JSON.stringify({ errors: MESSAGES[status] && status !== 404 ? MESSAGES[status] : message }),
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
  };
}
const fail = mk.makeFail(error);

function throttleHeaders(fault) {
  const s = fault.retry_after != null ? Number(fault.retry_after) : 2;
  return {
    'Retry-After': Number.isInteger(s) ? s.toFixed(1) : String(s),
    'X-Shopify-Shop-Api-Call-Limit': '40/40',
  };
}

// Every decimal string is money except a discount application's "value" (a
// percentage).
function setMoney(v, k) {
  if (k === 1) return;
  if (Array.isArray(v)) {
    for (const x of v) setMoney(x, k);
  } else if (v && typeof v === 'object') {
    for (const kk of Object.keys(v)) {
      if (typeof v[kk] === 'string' && kk !== 'value' && DECIMAL_RE.test(v[kk])) v[kk] = scaleDecimal(v[kk], k);
      else setMoney(v[kk], k);
    }
  }
}

// Replace the template's numeric ids (order, line items) by new ones
// wherever they occur: fulfillments and refunds point at line items.
function renumber(v, map) {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      if (typeof x === 'number' && map.has(x)) v[i] = map.get(x);
      else renumber(x, map);
    });
  } else if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      const x = v[k];
      if (typeof x === 'number' && map.has(x)) v[k] = map.get(x);
      else if (typeof x === 'string' && x.startsWith('gid://shopify/')) {
        const m = /\/(\d+)$/.exec(x);
        if (m && map.has(Number(m[1]))) v[k] = x.replace(/\d+$/, String(map.get(Number(m[1]))));
      } else renumber(x, map);
    }
  }
}

function generate(acc, idx, p) {
  const doc = instantiate(p.tpl, p.created, p.mod);
  const o = doc.order;
  const id = Number(`58${time.pad(acc.number, 5)}${time.pad(idx, 6)}`);
  if (acc.lean) o.line_items = o.line_items.slice(0, 1);
  const map = new Map([[o.id, id]]);
  o.line_items.forEach((l, j) => map.set(l.id, Number(`15${time.pad(acc.number, 5)}${time.pad(idx, 6)}${j}`)));
  renumber(o, map);
  o.order_number = 1001 + idx;
  o.number = idx + 1;
  o.name = `#${o.order_number}`;
  o.created_at = time.isoEU(p.created);
  o.updated_at = time.isoEU(p.mod);
  setMoney(o, p.factor);
  return { id: String(id), created: p.created, mod: p.mod, doc: { order: o } };
}

function isOpen(o) {
  return o.closed_at == null && o.cancelled_at == null;
}

// pending -> paid, then unfulfilled -> fulfilled (and closed); voided and
// refunded orders only change their date.
function advance(acc, order, now) {
  const o = order.doc.order;
  order.mod = time.floorSec(now);
  const stamp = time.isoEU(order.mod);
  if (o.cancelled_at == null && !['voided', 'refunded', 'expired'].includes(o.financial_status)) {
    if (o.financial_status === 'pending' || o.financial_status === 'partially_paid') {
      o.financial_status = 'paid';
      o.total_outstanding = '0.00';
    } else if (o.fulfillment_status !== 'fulfilled') {
      o.fulfillment_status = 'fulfilled';
      for (const l of o.line_items) {
        l.fulfillment_status = 'fulfilled';
        l.fulfillable_quantity = 0;
      }
      o.closed_at = stamp;
    }
  }
  o.updated_at = stamp;
}

function summary(order) {
  const o = order.doc.order;
  return { external_order_id: String(o.id), updated_at: time.isoZ(time.parseIso(o.updated_at)), items: o.line_items.length };
}

const orderJson = (o) => mk.cached(o, 'order', () => JSON.stringify(o.doc.order));

// Shopify's leaky bucket, reported but never full by itself (a full bucket
// makes nexus wait): throttling is what the 429 fault is for.
function callLimit(acc, now) {
  const b = acc.bucket || (acc.bucket = { level: 0, at: now });
  b.level = Math.max(0, b.level - ((now - b.at) / 1000) * 2) + 1;
  b.at = now;
  return `${Math.min(39, Math.ceil(b.level))}/40`;
}

function apiHeaders(ctx, acc) {
  return {
    'Content-Type': 'application/json; charset=utf-8',
    'X-Shopify-API-Version': VERSION,
    'X-Shopify-Shop-Api-Call-Limit': callLimit(acc, ctx.now),
    'X-Request-Id': crypto.randomUUID(),
  };
}

function authenticate(ctx) {
  mk.requireUserAgent(ctx, fail);
  const token = ctx.headers['x-shopify-access-token'];
  const acc = token ? ctx.store.byCredential(M, 'access_token', token)[0] : null;
  if (!acc) fail(401, MESSAGES[401], token ? 'unknown X-Shopify-Access-Token' : 'X-Shopify-Access-Token missing');
  mk.requireAccept(ctx, 'application/json', fail, 406);
  return acc;
}

function checkVersion(v) {
  if (v !== VERSION) fail(404, 'Not Found', `API version ${v} (the contract is ${VERSION})`);
}

const FILTERS = ['status', 'updated_at_min', 'updated_at_max', 'created_at_min', 'created_at_max',
  'financial_status', 'fulfillment_status'];

function readFilters(ctx) {
  const status = ctx.query.get('status') || 'open';
  if (!['open', 'closed', 'cancelled', 'any'].includes(status)) fail(400, `status: '${status}' is not valid`, 'status value');
  const f = { st: status };
  for (const [name, key] of [['updated_at_min', 'ua'], ['updated_at_max', 'ub'], ['created_at_min', 'ca'], ['created_at_max', 'cb']]) {
    const t = mk.timeParam(ctx, name, fail);
    if (t != null) f[key] = t;
  }
  for (const name of ['financial_status', 'fulfillment_status']) if (ctx.query.get(name) != null) f[name] = ctx.query.get(name);
  return f;
}

function matches(f, o) {
  const d = o.doc.order;
  if (f.st === 'open' && !isOpen(d)) return false;
  if (f.st === 'closed' && d.closed_at == null) return false;
  if (f.st === 'cancelled' && d.cancelled_at == null) return false;
  if (f.ua != null && o.mod < f.ua) return false;
  if (f.ub != null && o.mod > f.ub) return false;
  if (f.ca != null && o.created < f.ca) return false;
  if (f.cb != null && o.created > f.cb) return false;
  if (f.financial_status && f.financial_status !== 'any' && d.financial_status !== f.financial_status) return false;
  if (f.fulfillment_status && f.fulfillment_status !== 'any') {
    const want = { shipped: 'fulfilled', unshipped: null, partial: 'partial' }[f.fulfillment_status];
    if (d.fulfillment_status !== want) return false;
  }
  return true;
}

function list(ctx, m) {
  checkVersion(m[1]);
  const acc = authenticate(ctx);
  mk.checkParams(ctx, FILTERS.concat(['limit', 'page_info', 'fields']), fail);
  const limit = mk.intParam(ctx, 'limit', { min: 1, max: 250, def: 50 }, fail);
  let f;
  let cur = null;
  const info = ctx.query.get('page_info');
  if (info != null) {
    const extra = [...ctx.query.keys()].filter((k) => !['limit', 'page_info', 'fields'].includes(k));
    if (extra.length) {
      fail(400, `page_info cannot be combined with ${extra.join(', ')}: only limit and fields may be sent with page_info`,
        `filter parameter ${extra.join(',')} sent with page_info`);
    }
    cur = mk.decodeCursor(info);
    if (!cur || cur.acc !== acc.id || !cur.f || !['next', 'prev'].includes(cur.direction)) {
      fail(400, 'page_info: Invalid value.', 'page_info not issued for this shop');
    }
    f = cur.f;
  } else {
    f = readFilters(ctx);
  }
  const key = (o) => o.mod;
  const all = ctx.store.filtered(acc, 'modAsc', JSON.stringify(f), (o) => matches(f, o));
  let start = 0;
  let end;
  if (cur && cur.direction === 'next') {
    start = mk.afterKey(all, key, cur.last_t, cur.last_id);
    end = Math.min(all.length, start + limit);
  } else if (cur) {
    // the orders before the page that began at (first_t, first_id)
    end = mk.afterKey(all, key, cur.first_t, cur.first_id) - 1;
    start = Math.max(0, end - limit);
  } else {
    end = Math.min(all.length, limit);
  }
  const page = all.slice(start, end);
  ctx.served = { page, earlier: all.slice(0, start) };
  const links = [];
  const link = (c, rel) => `<${ctx.base}/admin/api/${VERSION}/orders.json?limit=${limit}&page_info=${mk.encodeCursor(c)}>; rel="${rel}"`;
  if (page.length && start > 0) {
    links.push(link({ acc: acc.id, f, direction: 'prev', first_id: page[0].id, first_t: page[0].mod,
      first_value: time.shopifyCursorTime(page[0].mod) }, 'previous'));
  }
  if (page.length && end < all.length) {
    const last = page[page.length - 1];
    links.push(link({ acc: acc.id, f, direction: 'next', last_id: last.id, last_t: last.mod,
      last_value: time.shopifyCursorTime(last.mod) }, 'next'));
  }
  const headers = apiHeaders(ctx, acc);
  if (links.length) headers.Link = links.join(', ');
  return { status: 200, body: mk.body('{"orders":[', mk.list(page.map(orderJson)), ']}'), headers };
}

function getOrder(ctx, m) {
  checkVersion(m[1]);
  const acc = authenticate(ctx);
  mk.checkParams(ctx, ['fields'], fail);
  const o = acc.byId.get(mk.decodeSegment(m[2]));
  if (!o) fail(404, 'Not Found', 'unknown order id');
  return { status: 200, body: mk.body('{"order":', orderJson(o), '}'), headers: apiHeaders(ctx, acc) };
}

const routes = [
  { method: 'GET', re: /^\/admin\/api\/([^/]+)\/orders\.json$/, name: 'GET /admin/api/{version}/orders.json', fn: list, kind: 'list' },
  { method: 'GET', re: /^\/admin\/api\/([^/]+)\/orders\/([^/]+)\.json$/, name: 'GET /admin/api/{version}/orders/{id}.json', fn: getOrder },
];

function identify(ctx) {
  const token = ctx.headers['x-shopify-access-token'];
  return token ? ctx.store.byCredential(M, 'access_token', token)[0] || null : null;
}

module.exports = {
  name: M, msPrecision: false, contentType: 'application/json; charset=utf-8', load, validate, identity, error,
  throttleHeaders, generate, advance, summary, routes, identify,
  templates: () => templates, leanTemplates: () => leanTemplates,
};

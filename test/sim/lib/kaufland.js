'use strict';
// Kaufland Marketplace Seller API v2 (doc/sync_protocol.md "Kaufland").
//
// No token: every request is signed.  The signature covers the full URL as
// the client sent it, rebuilt here as http://<Host header><request target>,
// so a client that signs one URL and sends another is refused.  Lists are
// offset/limit summaries, newest order first; details are {data: order}.

const path = require('node:path');
const fs = require('node:fs');
const crypto = require('node:crypto');
const mk = require('./market');
const { makeTemplate, instantiate } = require('./gen');
const time = require('./time');
const { scaleNumber } = require('./money');

const M = 'kaufland';
const WINDOW_S = 300;
const STOREFRONTS = { de: 'EUR', at: 'EUR', sk: 'EUR', fr: 'EUR', it: 'EUR', cz: 'CZK', pl: 'PLN' };
const UNIT_NEXT = { open: 'need_to_be_sent', need_to_be_sent: 'sent', sent: 'received', sent_and_autopaid: 'received', returned: 'returned_paid' };

let templates = [];
let leanTemplates = [];

function unitsChanged(d) {
  return Math.max(...d.order_units.map((u) => time.parseIso(u.ts_updated_iso)));
}

function load(dir) {
  templates = [];
  const ddir = path.join(dir, M, 'order_details');
  for (const f of fs.readdirSync(ddir).filter((x) => x.endsWith('.json')).sort()) {
    const d = mk.readJson(path.join(ddir, f)).data;
    templates.push(makeTemplate(d.id_order, { order: d }, time.parseIso(d.ts_created_iso), unitsChanged(d),
      { nitems: d.order_units.length }));
  }
  leanTemplates = templates.filter((t) => t.nitems === 1);
}

function validate(spec) {
  for (const k of ['client_key', 'secret_key']) {
    if (typeof spec.credentials[k] !== 'string' || !spec.credentials[k]) return `credentials.${k} is required`;
  }
  if (!STOREFRONTS[spec.region]) return `region must be a Kaufland storefront (${Object.keys(STOREFRONTS).join(', ')}), got ${spec.region}`;
  return null;
}

function identity(acc) {
  return acc.credentials.client_key;
}

function error(status, message) {
  return { body: JSON.stringify({ status, message }), headers: { 'Content-Type': 'application/json' } };
}
const fail = mk.makeFail(error);

function throttleHeaders() {
  // Kaufland throttles without saying how long to wait.
  return {};
}

function generate(acc, idx, p) {
  const doc = instantiate(p.tpl, p.created, p.mod);
  const d = doc.order;
  const id = `M${acc.number.toString(36).toUpperCase().padStart(3, '0')}${idx.toString(36).toUpperCase().padStart(4, '0')}`;
  const currency = STOREFRONTS[acc.region];
  d.id_order = id;
  d.storefront = acc.region;
  d.ts_created_iso = time.isoZ(p.created);
  if (acc.lean) d.order_units = d.order_units.slice(0, 1);
  d.order_units.forEach((u, j) => {
    u.id_order_unit = Number(`31${time.pad(acc.number, 5)}${time.pad(idx, 6)}${time.pad(j, 2)}`);
    u.id_order = id;
    u.storefront = acc.region;
    u.currency = currency;
    u.ts_created_iso = time.isoZ(p.created);
    u.ts_updated_iso = time.isoZ(p.mod);
    for (const k of ['price', 'shipping_rate', 'revenue_gross', 'revenue_net']) u[k] = scaleNumber(u[k], p.factor);
  });
  return { id, created: p.created, mod: p.mod, doc: { order: d } };
}

function advance(acc, order, now) {
  order.mod = time.floorSec(now);
  for (const u of order.doc.order.order_units) {
    if (UNIT_NEXT[u.status]) u.status = UNIT_NEXT[u.status];
    u.ts_updated_iso = time.isoZ(order.mod);
  }
}

// updated_at as adapters/kaufland.c derives it: the latest unit ts_updated_iso.
function summary(order) {
  return {
    external_order_id: order.doc.order.id_order,
    updated_at: time.isoZ(unitsChanged(order.doc.order)),
    items: order.doc.order.order_units.length,
  };
}

function reduced(d) {
  return {
    id_order: d.id_order,
    ts_created_iso: d.ts_created_iso,
    ts_units_updated_iso: time.isoZ(unitsChanged(d)),
    order_units_count: d.order_units.length,
    is_marketplace_deemed_supplier: d.is_marketplace_deemed_supplier,
    storefront: d.storefront,
    fulfillment_type: d.fulfillment_type,
  };
}

const summaryJson = (o) => mk.cached(o, 'summary', () => JSON.stringify(reduced(o.doc.order)));
const detailJson = (o) => mk.cached(o, 'detail', () => JSON.stringify({ data: o.doc.order }));

// Lenient: the account a Shop-Client-Key names.
function identify(ctx) {
  const key = ctx.headers['shop-client-key'];
  return key ? ctx.store.byCredential(M, 'client_key', key)[0] || null : null;
}

function authenticate(ctx) {
  const acc = identify(ctx);
  if (!ctx.headers['shop-client-key']) fail(401, 'Shop-Client-Key header missing', 'Shop-Client-Key missing');
  if (!acc) fail(401, 'Unknown client key', 'unknown Shop-Client-Key');
  const ts = ctx.headers['shop-timestamp'];
  if (!ts || !/^\d+$/.test(ts)) fail(401, 'Shop-Timestamp header missing or not Unix seconds', 'Shop-Timestamp missing or malformed');
  if (Math.abs(Number(ts) - ctx.now / 1000) > WINDOW_S) {
    fail(401, `Shop-Timestamp ${ts} is more than ${WINDOW_S} s from the server time`, 'Shop-Timestamp outside the 300 s window');
  }
  const sig = ctx.headers['shop-signature'];
  if (!sig) fail(401, 'Shop-Signature header missing', 'Shop-Signature missing');
  const want = crypto.createHmac('sha256', acc.credentials.secret_key)
    .update(`${ctx.method}\n${ctx.fullUrl}\n${ctx.body}\n${ts}`).digest('hex');
  if (sig.toLowerCase() !== want) {
    fail(401, 'Invalid signature', `Shop-Signature does not match HMAC-SHA256 over ${ctx.method}\\n${ctx.fullUrl}\\n<body>\\n${ts}`);
  }
  mk.requireUserAgent(ctx, fail, 400);
  mk.requireAccept(ctx, 'application/json', fail, 406);
  return acc;
}

function list(ctx) {
  const acc = authenticate(ctx);
  mk.checkParams(ctx, ['storefront', 'fulfillment_type', 'ts_created_from_iso', 'ts_units_updated_from_iso', 'limit', 'offset'], fail);
  const sf = ctx.query.get('storefront');
  if (sf == null) fail(400, 'storefront is required', 'storefront missing');
  if (!STOREFRONTS[sf]) fail(400, `Invalid storefront '${sf}'`, 'unknown storefront');
  if (sf !== acc.region) fail(400, `Storefront '${sf}' is not enabled for this seller`, `storefront ${sf} is not the account's ${acc.region}`);
  const ft = ctx.query.get('fulfillment_type');
  if (ft != null && !['fulfilled_by_merchant', 'fulfilled_by_kaufland'].includes(ft)) fail(400, `Invalid fulfillment_type '${ft}'`, 'fulfillment_type value');
  const updated = mk.timeParam(ctx, 'ts_units_updated_from_iso', fail);
  const created = mk.timeParam(ctx, 'ts_created_from_iso', fail);
  const limit = mk.intParam(ctx, 'limit', { min: 1, max: 100, def: 30 }, fail);
  const offset = mk.intParam(ctx, 'offset', { min: 0, def: 0 }, fail);
  const all = ctx.store.filtered(acc, 'createdDesc', `${ft}|${updated}|${created}`, (o) =>
    (updated == null || o.mod >= updated) && (created == null || o.created >= created) &&
    (ft == null || o.doc.order.fulfillment_type === ft));
  const page = all.slice(offset, offset + limit);
  ctx.served = { page, earlier: all.slice(0, Math.min(offset, all.length)) };
  const body = mk.body('{"data":[', mk.list(page.map(summaryJson)),
    `],"pagination":{"offset":${offset},"limit":${limit},"total":${all.length}}}`);
  return { status: 200, body, headers: { 'Content-Type': 'application/json' } };
}

function detail(ctx, m) {
  const acc = authenticate(ctx);
  mk.checkParams(ctx, ['storefront', 'embedded'], fail);
  const o = acc.byId.get(mk.decodeSegment(m[1]));
  if (!o) fail(404, 'Order not found', 'unknown id_order');
  return { status: 200, body: detailJson(o), headers: { 'Content-Type': 'application/json' } };
}

const routes = [
  { method: 'GET', re: /^\/v2\/orders$/, name: 'GET /v2/orders', fn: list, kind: 'list' },
  { method: 'GET', re: /^\/v2\/orders\/([^/]+)$/, name: 'GET /v2/orders/{id_order}', fn: detail },
];

module.exports = {
  name: M, msPrecision: false, contentType: 'application/json', load, validate, identity, error,
  throttleHeaders, generate, advance, summary, routes, identify,
  templates: () => templates, leanTemplates: () => leanTemplates,
};

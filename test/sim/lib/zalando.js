'use strict';
// Zalando zDirect Orders API (doc/sync_protocol.md "Zalando").
//
// JSON:API: Order resources in data, their OrderItem and OrderLine
// resources in included, but only those the include parameter asks for.
// Pages are page[number] from 0, default sort -modified_at, and
// last_updated_after is exclusive.

const path = require('node:path');
const crypto = require('node:crypto');
const { json, encodeQueryValue } = require('./http');
const mk = require('./market');
const { makeTemplate, instantiate, uuid } = require('./gen');
const time = require('./time');
const { scaleNumber } = require('./money');

const M = 'zalando';
const CT = 'application/vnd.api+json';
const INCLUDES = ['order_items', 'order_lines', 'order_transitions', 'shipments'];
const SORTS = ['modified_at', '-modified_at', 'created_at', '-created_at', 'order_date', '-order_date'];
const LINE_NEXT = { initial: 'reserved', reserved: 'shipped' };
const FINAL = ['shipped', 'returned', 'canceled'];
const REAL_BASE = 'https://api.merchants.zalando.com';

let templates = [];
let leanTemplates = [];

function load(dir) {
  templates = [];
  for (const f of ['orders_page1.json', 'orders_page2.json']) {
    const page = mk.readJson(path.join(dir, M, f));
    const inc = new Map(page.included.map((r) => [`${r.type}/${r.id}`, r]));
    for (const o of page.data) {
      const items = o.relationships.order_items.data.map((ref) => inc.get(`${ref.type}/${ref.id}`));
      const lines = items.map((it) => it.relationships.order_lines.data.map((ref) => inc.get(`${ref.type}/${ref.id}`)));
      const a = o.attributes;
      templates.push(makeTemplate(a.order_id, { order: o, items, lines }, time.parseIso(a.order_date),
        time.parseIso(a.modified_at), { nitems: items.length, pieces: lines.flat().length }));
    }
  }
  leanTemplates = templates.filter((t) => t.nitems === 1 && t.pieces <= 2);
}

function validate(spec) {
  for (const k of ['client_id', 'client_secret', 'merchant_id']) {
    if (typeof spec.credentials[k] !== 'string' || !spec.credentials[k]) return `credentials.${k} is required`;
  }
  return null;
}

function identity(acc) {
  return acc.credentials.client_id;
}

const TITLES = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 406: 'Not Acceptable',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};

function error(status, message) {
  if (status === 429) {
    return { body: JSON.stringify({ message }), headers: { 'Content-Type': CT, 'X-Rate-Limit': '40/min' } };
  }
  return {
    body: JSON.stringify({ type: 'about:blank', title: TITLES[status] || 'Error', status, detail: message }),
    headers: { 'Content-Type': 'application/problem+json' },
  };
}
const fail = mk.makeFail(error);

function throttleHeaders(fault) {
  return {
    'Retry-After': String(Math.ceil(fault.retry_after != null ? fault.retry_after : 1)),
    'X-Rate-Limit': '40/min',
    'X-Flow-Id': crypto.randomBytes(16).toString('base64url'),
  };
}

// Resource links point at the simulator, like the pagination links; the
// base is the one the serialization was made for.
function selfLinks(doc, base, mid) {
  const id = doc.order.attributes.order_id;
  const orders = `${base}/merchants/${mid}/orders`;
  doc.order.links = { self: `${orders}/${id}` };
  doc.items.forEach((it, j) => {
    it.links = { self: `${orders}/${id}/items/${it.id}` };
    for (const l of doc.lines[j]) l.links = { self: `${orders}/${id}/items/${it.id}/lines/${l.id}` };
  });
}

function generate(acc, idx, p) {
  const doc = instantiate(p.tpl, p.created, p.mod);
  const mid = acc.credentials.merchant_id;
  const key = [M, acc.number, idx];
  const id = uuid(...key, 'order');
  const o = doc.order;
  const a = o.attributes;
  if (acc.lean) {
    doc.items = doc.items.slice(0, 1);
    doc.lines = doc.lines.slice(0, 1);
  }
  o.id = id;
  a.order_id = id;
  a.merchant_id = mid;
  a.order_number = `1${time.pad(acc.number, 5)}${time.pad(idx, 8)}`;
  a.order_date = time.isoZ(p.created, 3);
  a.created_at = time.isoZ(p.created, 3);
  a.modified_at = time.isoZ(p.mod, 3);
  if (a.merchant_order_id) a.merchant_order_id = `NX-ZAL-${acc.number}-${idx}`;
  let total = 0;
  let count = 0;
  doc.items.forEach((it, j) => {
    const itemId = uuid(...key, 'item', j);
    it.id = itemId;
    it.attributes.order_item_id = itemId;
    it.attributes.order_id = id;
    doc.lines[j].forEach((l, k) => {
      const lineId = uuid(...key, 'line', j, k);
      l.id = lineId;
      l.attributes.order_line_id = lineId;
      l.attributes.order_item_id = itemId;
      l.attributes.price.amount = scaleNumber(l.attributes.price.amount, p.factor);
      total += Math.round(l.attributes.price.amount * 100);
      count++;
    });
    it.relationships.order_lines.data = doc.lines[j].map((l) => ({ type: l.type, id: l.id }));
  });
  o.relationships.order_items.data = doc.items.map((it) => ({ type: it.type, id: it.id }));
  a.order_lines_count = count;
  a.order_lines_price_amount = total / 100;
  if (a.shipping_costs) a.shipping_costs.amount = scaleNumber(a.shipping_costs.amount, p.factor);
  selfLinks(doc, REAL_BASE, mid);
  return { id, created: p.created, mod: p.mod, doc };
}

function counters(it, lines) {
  const n = (s) => lines.filter((l) => l.attributes.status === s).length;
  Object.assign(it.attributes, {
    quantity_reserved: n('reserved'), quantity_shipped: n('shipped'), quantity_returned: n('returned'), quantity_canceled: n('canceled'),
  });
}

// initial order -> approved; lines initial -> reserved -> shipped; an order
// whose lines are all final is fulfilled.
function advance(acc, order, now) {
  const doc = order.doc;
  const a = doc.order.attributes;
  const stamp = time.isoZ(now, 3);
  order.mod = now;
  if (a.status === 'initial') {
    a.status = 'approved';
  } else {
    doc.items.forEach((it, j) => {
      for (const l of doc.lines[j]) {
        if (LINE_NEXT[l.attributes.status]) {
          l.attributes.status = LINE_NEXT[l.attributes.status];
          l.attributes.modified_at = stamp;
        }
      }
      counters(it, doc.lines[j]);
      it.attributes.modified_at = stamp;
    });
    if (doc.lines.flat().every((l) => FINAL.includes(l.attributes.status))) a.status = 'fulfilled';
  }
  a.modified_at = stamp;
}

function summary(order) {
  return {
    external_order_id: order.doc.order.attributes.order_id,
    updated_at: time.isoZ(time.parseIso(order.doc.order.attributes.modified_at)),
    items: order.doc.items.length,
  };
}

// Cached per base URL: the resources carry self links.
function serial(order, ctx) {
  const c = order.cache || (order.cache = {});
  if (c.base !== ctx.base) {
    selfLinks(order.doc, ctx.base, order.doc.order.attributes.merchant_id);
    c.base = ctx.base;
    c.order = Buffer.from(JSON.stringify(order.doc.order));
    c.items = order.doc.items.map((x) => Buffer.from(JSON.stringify(x)));
    c.lines = order.doc.lines.flat().map((x) => Buffer.from(JSON.stringify(x)));
  }
  return c;
}

function included(orders, ctx, inc) {
  const out = [];
  for (const o of orders) {
    const s = serial(o, ctx);
    if (inc.includes('order_items')) out.push(...s.items);
    if (inc.includes('order_lines')) out.push(...s.lines);
  }
  return out;
}

function authenticate(ctx, mid) {
  mk.requireUserAgent(ctx, fail);
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.headers.authorization || '');
  const acc = mk.authToken(ctx, m && m[1], fail, 401);
  if (mk.decodeSegment(mid) !== acc.credentials.merchant_id) {
    fail(403, `The token does not grant access to merchant ${mk.decodeSegment(mid)}`, 'merchant_id in the path is not the account\'s');
  }
  mk.requireAccept(ctx, CT, fail, 406);
  return acc;
}

function token(ctx) {
  mk.requireUserAgent(ctx, mk.oauthRequestFail);
  const accs = mk.basicClient(ctx, 'client_id', 'client_secret');
  const f = mk.requireForm(ctx);
  if (f.get('grant_type') !== 'client_credentials') {
    mk.oauthFail(400, 'unsupported_grant_type', `grant_type must be client_credentials (got ${f.get('grant_type')})`);
  }
  const t = ctx.issueToken(accs[0], 7200, 'eyJ');
  return json(200, { access_token: t.token, token_type: 'Bearer', expires_in: t.lifetime, scope: 'uid' });
}

function readInclude(ctx) {
  const v = ctx.query.get('include');
  if (v == null) return [];
  const inc = v.split(',');
  for (const s of inc) if (!INCLUDES.includes(s)) fail(400, `include: unknown relationship '${s}'`, `include ${s}`);
  return inc;
}

const LIST_PARAMS = ['include', 'last_updated_after', 'last_updated_before', 'created_after', 'created_before',
  'order_status', 'order_type', 'order_number', 'exported', 'sort', 'page[number]', 'page[size]'];

function list(ctx, m) {
  const acc = authenticate(ctx, m[1]);
  mk.checkParams(ctx, LIST_PARAMS, fail);
  const inc = readInclude(ctx);
  const f = {};
  for (const name of ['last_updated_after', 'last_updated_before', 'created_after', 'created_before']) {
    const t = mk.timeParam(ctx, name, fail);
    if (t != null) f[name] = t;
  }
  for (const name of ['order_status', 'order_type', 'order_number', 'exported']) if (ctx.query.get(name) != null) f[name] = ctx.query.get(name);
  const sort = ctx.query.get('sort') || '-modified_at';
  if (!SORTS.includes(sort)) fail(400, `sort: '${sort}' is not supported`, 'sort value');
  const number = mk.intParam(ctx, 'page[number]', { min: 0, def: 0 }, fail);
  const size = mk.intParam(ctx, 'page[size]', { min: 1, max: 100, def: 50 }, fail);
  const view = { modified_at: 'modAsc', '-modified_at': 'modDesc', created_at: 'createdAsc', '-created_at': 'createdDesc',
    order_date: 'createdAsc', '-order_date': 'createdDesc' }[sort];
  const all = ctx.store.filtered(acc, view, JSON.stringify(f), (o) => {
    const a = o.doc.order.attributes;
    // both bounds exclusive, as Zalando documents
    if (f.last_updated_after != null && !(o.mod > f.last_updated_after)) return false;
    if (f.last_updated_before != null && !(o.mod < f.last_updated_before)) return false;
    if (f.created_after != null && !(o.created > f.created_after)) return false;
    if (f.created_before != null && !(o.created < f.created_before)) return false;
    if (f.order_status && !f.order_status.split(',').includes(a.status)) return false;
    if (f.order_type && a.order_type !== f.order_type) return false;
    if (f.order_number && a.order_number !== f.order_number) return false;
    if (f.exported && String(a.exported) !== f.exported) return false;
    return true;
  });
  const start = number * size;
  const page = all.slice(start, start + size);
  ctx.served = { page, earlier: all.slice(0, Math.min(start, all.length)) };
  // Links keep the request's filters, in the order they came, with the page
  // parameters percent-encoded.
  const keep = [];
  for (const [k, v] of ctx.query) if (!k.startsWith('page[')) keep.push(`${k}=${encodeQueryValue(v).replace(/%2C/gi, ',')}`);
  const url = (n) => `${ctx.base}/merchants/${acc.credentials.merchant_id}/orders?${keep.concat([`page%5Bnumber%5D=${n}`, `page%5Bsize%5D=${size}`]).join('&')}`;
  const links = { self: url(number), first: url(0) };
  if (start + size < all.length) links.next = url(number + 1);
  if (number > 0) links.prev = url(number - 1);
  const body = mk.body(`{"links":${JSON.stringify(links)},"data":[`, mk.list(page.map((o) => serial(o, ctx).order)),
    `],"meta":{"copyright":"Zalando SE 2025 All rights reserved.","number_of_results":${page.length}},"included":[`,
    mk.list(included(page, ctx, inc)), ']}');
  return { status: 200, body, headers: { 'Content-Type': CT, 'X-Rate-Limit': '40/min', 'X-Flow-Id': crypto.randomBytes(16).toString('base64url') } };
}

function detail(ctx, m) {
  const acc = authenticate(ctx, m[1]);
  mk.checkParams(ctx, ['include'], fail);
  const inc = readInclude(ctx);
  const o = acc.byId.get(mk.decodeSegment(m[2]));
  if (!o) fail(404, 'Order not found', 'unknown order_id');
  const body = mk.body('{"data":', serial(o, ctx).order, ',"included":[', mk.list(included([o], ctx, inc)), ']}');
  return { status: 200, body, headers: { 'Content-Type': CT } };
}

const routes = [
  { method: 'POST', re: /^\/auth\/token$/, name: 'POST /auth/token', fn: token, kind: 'token' },
  { method: 'GET', re: /^\/merchants\/([^/]+)\/orders$/, name: 'GET /merchants/{merchant_id}/orders', fn: list, kind: 'list' },
  { method: 'GET', re: /^\/merchants\/([^/]+)\/orders\/([^/]+)$/, name: 'GET /merchants/{merchant_id}/orders/{order_id}', fn: detail },
];

function identify(ctx, route) {
  if (route && route.kind === 'token') return mk.accountByBasic(ctx, 'client_id');
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.headers.authorization || '');
  return mk.accountByToken(ctx, m && m[1]);
}

module.exports = {
  name: M, msPrecision: true, contentType: CT, load, validate, identity, error,
  throttleHeaders, generate, advance, summary, routes, identify,
  templates: () => templates, leanTemplates: () => leanTemplates,
};

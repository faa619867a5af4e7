'use strict';
// bol.com Retailer API v10 (doc/sync_protocol.md "bol.com").
//
// The list holds reduced orders, 50 a page, newest first (by
// orderPlacedDateTime), and a page past the end is the literal "{ }".
// Reduced orders are derived from the full order, so the two never
// disagree.  latest-change-date is a day: orders whose latest item change
// is on or after that UTC day.  Like bol, status defaults to OPEN and
// fulfilment-method to FBR: leaving out status=ALL loses shipped orders.

const path = require('node:path');
const fs = require('node:fs');
const crypto = require('node:crypto');
const { json, acceptIncludes } = require('./http');
const mk = require('./market');
const { makeTemplate, instantiate } = require('./gen');
const time = require('./time');
const { scaleNumber } = require('./money');

const M = 'bol';
const CT = 'application/vnd.retailer.v10+json;charset=UTF-8';
const PAGE = 50;
// bol looks back 3 months; 92 days is the longest 3 months can be, so a
// client clamping to 90 days is never refused.
const MAX_DAYS_BACK = 92;

let templates = [];
let leanTemplates = [];

function itemsChanged(d) {
  return Math.max(...d.orderItems.map((i) => time.parseIso(i.latestChangedDateTime)));
}

function load(dir) {
  templates = [];
  const ddir = path.join(dir, M, 'order_details');
  for (const f of fs.readdirSync(ddir).filter((x) => x.endsWith('.json')).sort()) {
    const d = mk.readJson(path.join(ddir, f));
    templates.push(makeTemplate(d.orderId, { order: d }, time.parseIso(d.orderPlacedDateTime), itemsChanged(d),
      { nitems: d.orderItems.length }));
  }
  leanTemplates = templates.filter((t) => t.nitems === 1);
}

function validate(spec) {
  for (const k of ['client_id', 'client_secret']) {
    if (typeof spec.credentials[k] !== 'string' || !spec.credentials[k]) return `credentials.${k} is required`;
  }
  return null;
}

function identity(acc) {
  return acc.credentials.client_id;
}

const TITLES = {
  400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 406: 'Not Acceptable',
  429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

function error(status, message, extra) {
  const body = { type: 'https://api.bol.com/problems', title: TITLES[status] || 'Error', status, detail: message };
  if (extra && extra.violation) body.violations = [{ name: extra.violation, reason: message }];
  return { body: JSON.stringify(body), headers: { 'Content-Type': CT } };
}
const fail = mk.makeFail(error);

function throttleHeaders(fault) {
  const wait = String(Math.ceil(fault.retry_after != null ? fault.retry_after : 1));
  return { 'Retry-After': wait, 'X-RateLimit-Limit': '25', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': wait };
}

function generate(acc, idx, p) {
  const doc = instantiate(p.tpl, p.created, p.mod);
  const d = doc.order;
  const id = `2${time.pad(acc.number, 5)}${time.pad(idx, 6)}`;
  d.orderId = id;
  d.orderPlacedDateTime = time.isoEU(p.created);
  if (acc.lean) d.orderItems = d.orderItems.slice(0, 1);
  d.orderItems.forEach((it, j) => {
    it.orderItemId = `3${time.pad(acc.number, 5)}${time.pad(idx, 6)}${j}`;
    it.latestChangedDateTime = time.isoEU(p.mod);
    it.unitPrice = scaleNumber(it.unitPrice, p.factor);
    it.totalPrice = scaleNumber(it.totalPrice, p.factor);
    it.commission = scaleNumber(it.commission, p.factor);
    for (const disc of it.discounts || []) disc.amount = scaleNumber(disc.amount, p.factor);
  });
  return { id, created: p.created, mod: p.mod, doc: { order: d } };
}

// Ship whatever is neither shipped nor cancelled.
function advance(acc, order, now) {
  order.mod = time.floorSec(now);
  for (const it of order.doc.order.orderItems) {
    const open = it.quantity - it.quantityShipped - it.quantityCancelled;
    if (open > 0) it.quantityShipped += open;
    it.latestChangedDateTime = time.isoEU(order.mod);
  }
}

// updated_at as adapters/bol.c derives it: the latest item latestChangedDateTime.
function summary(order) {
  return {
    external_order_id: order.doc.order.orderId,
    updated_at: time.isoZ(itemsChanged(order.doc.order)),
    items: order.doc.order.orderItems.length,
  };
}

function handled(it) {
  return it.quantityShipped + it.quantityCancelled >= it.quantity;
}

function reduced(d) {
  return {
    orderId: d.orderId,
    orderPlacedDateTime: d.orderPlacedDateTime,
    orderItems: d.orderItems.map((it) => ({
      orderItemId: it.orderItemId,
      ean: it.product.ean,
      fulfilmentMethod: it.fulfilment.method,
      fulfilmentStatus: handled(it) ? 'HANDLED' : 'OPEN',
      quantity: it.quantity,
      quantityShipped: it.quantityShipped,
      quantityCancelled: it.quantityCancelled,
      cancellationRequest: it.cancellationRequest,
      latestChangedDateTime: it.latestChangedDateTime,
    })),
  };
}

const reducedJson = (o) => mk.cached(o, 'reduced', () => JSON.stringify(reduced(o.doc.order)));
const detailJson = (o) => mk.cached(o, 'detail', () => JSON.stringify(o.doc.order));

function apiHeaders(ctx, acc, name, limit) {
  const b = mk.budget(acc, name, limit, ctx.now);
  return {
    'Content-Type': CT,
    'X-RateLimit-Limit': String(limit),
    'X-RateLimit-Remaining': String(b.remaining),
    'X-RateLimit-Reset': String(b.reset),
    'X-Request-ID': crypto.randomUUID(),
  };
}

function common(ctx) {
  mk.requireUserAgent(ctx, fail);
  mk.requireAccept(ctx, 'application/vnd.retailer.v10+json', fail, 406);
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.headers.authorization || '');
  return mk.authToken(ctx, m && m[1], fail, 401);
}

function token(ctx) {
  mk.requireUserAgent(ctx, mk.oauthRequestFail);
  if (!acceptIncludes(ctx.headers.accept, 'application/json')) {
    mk.oauthFail(400, 'invalid_request', 'Accept must be application/json', 'token Accept not application/json');
  }
  const accs = mk.basicClient(ctx, 'client_id', 'client_secret');
  const keys = [...ctx.query.keys()];
  if (ctx.query.get('grant_type') !== 'client_credentials' || keys.length !== 1) {
    mk.oauthFail(400, 'unsupported_grant_type', 'expected ?grant_type=client_credentials and nothing else',
      'token query not grant_type=client_credentials');
  }
  const t = ctx.issueToken(accs[0], 299, 'eyJ');
  return json(200, { access_token: t.token, token_type: 'Bearer', expires_in: t.lifetime, scope: 'RETAILER' });
}

function list(ctx) {
  const acc = common(ctx);
  mk.checkParams(ctx, ['page', 'status', 'fulfilment-method', 'latest-change-date', 'change-interval-minute', 'vvb-only'], fail);
  const page = mk.intParam(ctx, 'page', { min: 1, max: 10000, def: 1 }, fail);
  const status = ctx.query.get('status') || 'OPEN';
  if (!['OPEN', 'SHIPPED', 'ALL'].includes(status)) fail(400, `status: '${status}' is not OPEN, SHIPPED or ALL`, 'status value', { violation: 'status' });
  const method = ctx.query.get('fulfilment-method') || 'FBR';
  if (!['FBR', 'FBB', 'ALL'].includes(method)) {
    fail(400, `fulfilment-method: '${method}' is not FBR, FBB or ALL`, 'fulfilment-method value', { violation: 'fulfilment-method' });
  }
  const day = ctx.query.get('latest-change-date');
  const minutes = ctx.query.get('change-interval-minute');
  if (day != null && minutes != null) {
    fail(400, 'latest-change-date and change-interval-minute cannot be combined', 'both latest-change-date and change-interval-minute');
  }
  let since = null;
  if (day != null) {
    since = time.parseDate(day);
    if (Number.isNaN(since)) fail(400, `latest-change-date: '${day}' is not a date (YYYY-MM-DD)`, 'latest-change-date format', { violation: 'latest-change-date' });
    if (since < time.parseDate(time.isoDate(ctx.now)) - MAX_DAYS_BACK * 86400000) {
      fail(400, 'latest-change-date can be at most 3 months in the past', 'latest-change-date more than 3 months back', { violation: 'latest-change-date' });
    }
  } else if (minutes != null) {
    const n = mk.intParam(ctx, 'change-interval-minute', { min: 1, max: 60 }, fail);
    since = ctx.now - n * 60000;
  }
  const vvb = ctx.query.get('vvb-only');
  if (vvb != null && vvb !== 'true' && vvb !== 'false') fail(400, 'vvb-only must be true or false', 'vvb-only value');
  const all = ctx.store.filtered(acc, 'createdDesc', `${status}|${method}|${since}`, (o) => {
    const items = o.doc.order.orderItems;
    if (since != null && o.mod < since) return false;
    if (status === 'OPEN' && !items.some((i) => !handled(i))) return false;
    if (status === 'SHIPPED' && !items.every(handled)) return false;
    if (method !== 'ALL' && !items.some((i) => i.fulfilment.method === method)) return false;
    return true;
  });
  const start = (page - 1) * PAGE;
  const slice = all.slice(start, start + PAGE);
  ctx.served = { page: slice, earlier: all.slice(0, Math.min(start, all.length)) };
  const body = slice.length ? mk.body('{"orders":[', mk.list(slice.map(reducedJson)), ']}') : '{ }';
  return { status: 200, body, headers: apiHeaders(ctx, acc, 'list', 25) };
}

function detail(ctx, m) {
  const acc = common(ctx);
  mk.checkParams(ctx, [], fail);
  const o = acc.byId.get(mk.decodeSegment(m[1]));
  if (!o) fail(404, `Order ${mk.decodeSegment(m[1])} not found`, 'unknown orderId');
  return { status: 200, body: detailJson(o), headers: apiHeaders(ctx, acc, 'detail', 25) };
}

// Webhook signing: one RSA key pair per simulator run, listed by
// GET /retailer/subscriptions/signature-keys as base64 DER.
const signing = (() => {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { id: '1', privateKey, der: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
})();

// 'keyId=<id>, algorithm="rsa-sha256", signature=<base64 PKCS#1 v1.5 SHA-256 of the body>';
// keyId may name another key.
function signWebhook(body, keyId) {
  const signature = crypto.sign('sha256', Buffer.from(body), signing.privateKey).toString('base64');
  const id = keyId || signing.id;
  return { key_id: id, headers: { Signature: `keyId=${id}, algorithm="rsa-sha256", signature=${signature}` } };
}

function signatureKeys(ctx) {
  common(ctx);
  mk.checkParams(ctx, [], fail);
  return json(200, { signatureKeys: [{ id: signing.id, type: 'RSA', publicKey: signing.der }] }, { 'Content-Type': CT });
}

const routes = [
  { method: 'POST', re: /^\/token$/, name: 'POST /token', fn: token, kind: 'token' },
  { method: 'GET', re: /^\/retailer\/orders$/, name: 'GET /retailer/orders', fn: list, kind: 'list' },
  { method: 'GET', re: /^\/retailer\/orders\/([^/]+)$/, name: 'GET /retailer/orders/{orderId}', fn: detail },
  { method: 'GET', re: /^\/retailer\/subscriptions\/signature-keys$/, name: 'GET /retailer/subscriptions/signature-keys', fn: signatureKeys, kind: 'keys' },
];

function identify(ctx, route) {
  if (route && route.kind === 'token') return mk.accountByBasic(ctx, 'client_id');
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.headers.authorization || '');
  return mk.accountByToken(ctx, m && m[1]);
}

module.exports = {
  name: M, msPrecision: false, contentType: CT, load, validate, identity, error,
  throttleHeaders, generate, advance, summary, routes, identify, signWebhook,
  templates: () => templates, leanTemplates: () => leanTemplates,
};

'use strict';
// Amazon Selling Partner API, Orders v0 (doc/sync_protocol.md "Amazon").
// An account created with orders_api "2026-01-01" lists with Orders API
// v2026-01-01 instead (amazon_v2026.js), and v0's list and item calls are
// refused for it, as searchOrders is for a v0 account.
//
// Lists are keyset-paged on (LastUpdateDate, AmazonOrderId) ascending: a
// NextToken names the last order served, so pages stay stable while orders
// change, and an order changed during a walk moves behind the cursor and
// is served again rather than skipped.  Items are served separately, at
// most items_page_size (default 100) per getOrderItems page.

const path = require('node:path');
const crypto = require('node:crypto');
const { json } = require('./http');
const mk = require('./market');
const { makeTemplate, instantiate } = require('./gen');
const { fnv1a } = require('./rand');
const time = require('./time');
const { scaleDecimal } = require('./money');
const v2026 = require('./amazon_v2026');

const M = 'amazon';

// Marketplace id -> currency and sales channel.  Orders of an account are
// all in its marketplace, as a getOrders call filtered on it would return.
const MARKETPLACES = {
  ATVPDKIKX0DER: ['USD', 'Amazon.com'],
  A2EUQ1WTGCTBG2: ['CAD', 'Amazon.ca'],
  A1AM78C64UM0Y8: ['MXN', 'Amazon.com.mx'],
  A2Q3Y263D00KWC: ['BRL', 'Amazon.com.br'],
  A1F83G8C2ARO7P: ['GBP', 'Amazon.co.uk'],
  A1PA6795UKMFR9: ['EUR', 'Amazon.de'],
  A13V1IB3VIYZZH: ['EUR', 'Amazon.fr'],
  APJ6JRA9NG5V4: ['EUR', 'Amazon.it'],
  A1RKKUPIHCS9HS: ['EUR', 'Amazon.es'],
  A1805IZSGTT6HS: ['EUR', 'Amazon.nl'],
  AMEN7PMS3EDWL: ['EUR', 'Amazon.com.be'],
  A28R8C7NBKEWEA: ['EUR', 'Amazon.ie'],
  A2NODRKZP88ZB9: ['SEK', 'Amazon.se'],
  A1C3SOZRARQ6R3: ['PLN', 'Amazon.pl'],
  A33AVAJ2PDY3EV: ['TRY', 'Amazon.com.tr'],
  ARBP9OOSHTCHU: ['EGP', 'Amazon.eg'],
  A17E79C6D8DWNP: ['SAR', 'Amazon.sa'],
  A2VIGQ35RCS4UG: ['AED', 'Amazon.ae'],
  A21TJRUUN4KGV: ['INR', 'Amazon.in'],
  A1VC38T7YXB528: ['JPY', 'Amazon.co.jp'],
  A39IBJ37TRP1C6: ['AUD', 'Amazon.com.au'],
  A19VAU5U5O7RUS: ['SGD', 'Amazon.sg'],
  AE08WJ6YKNBMC: ['ZAR', 'Amazon.co.za'],
};

const STATUSES = ['PendingAvailability', 'Pending', 'Unshipped', 'PartiallyShipped', 'Shipped',
  'InvoiceUnconfirmed', 'Canceled', 'Unfulfillable'];
const NEXT_STATUS = {
  Pending: 'Unshipped', PendingAvailability: 'Unshipped', Unshipped: 'Shipped',
  PartiallyShipped: 'Shipped', InvoiceUnconfirmed: 'Shipped',
};

const ERROR_CODES = {
  400: 'InvalidInput', 403: 'Unauthorized', 404: 'NotFound', 406: 'InvalidInput',
  429: 'QuotaExceeded', 500: 'InternalFailure', 503: 'ServiceUnavailable',
};

let templates = [];
let leanTemplates = [];

function load(dir) {
  templates = [];
  for (const f of ['orders_page1.json', 'orders_page2.json']) {
    for (const o of mk.readJson(path.join(dir, M, f)).payload.Orders) {
      const items = mk.readJson(path.join(dir, M, 'order_items', `${o.AmazonOrderId}.json`)).payload.OrderItems;
      templates.push(makeTemplate(o.AmazonOrderId, { order: o, items },
        time.parseIso(o.PurchaseDate), time.parseIso(o.LastUpdateDate), { nitems: items.length }));
    }
  }
  leanTemplates = templates.filter((t) => t.nitems === 1);
}

function validate(spec) {
  const c = spec.credentials;
  for (const k of ['lwa_client_id', 'lwa_client_secret', 'refresh_token']) {
    if (typeof c[k] !== 'string' || !c[k]) return `credentials.${k} is required`;
  }
  if (!MARKETPLACES[spec.region]) return `region must be an Amazon marketplace id (e.g. ATVPDKIKX0DER), got ${spec.region}`;
  if (spec.orders_api != null && spec.orders_api !== 'v0' && spec.orders_api !== v2026.VERSION) {
    return `orders_api must be "v0" (the default) or "${v2026.VERSION}", got ${JSON.stringify(spec.orders_api)}`;
  }
  return null;
}

// What tells two accounts apart at the token endpoint.
function identity(acc) {
  return acc.credentials.refresh_token;
}

function error(status, message, extra) {
  let msg = message;
  if (status === 403) {
    msg = extra && extra.expired ? 'The access token you provided has expired.'
      : 'Access to requested resource is denied.';
  }
  return {
    body: JSON.stringify({ errors: [{ code: ERROR_CODES[status] || 'InvalidInput', message: msg, details: '' }] }),
    headers: { 'Content-Type': 'application/json' },
  };
}
const fail = mk.makeFail(error);

function throttleHeaders() {
  // Amazon says nothing about how long to wait: no Retry-After.
  return {};
}

function setMoney(v, currency, k) {
  if (Array.isArray(v)) {
    for (const x of v) setMoney(x, currency, k);
  } else if (v && typeof v === 'object') {
    if (typeof v.CurrencyCode === 'string' && typeof v.Amount === 'string') {
      v.CurrencyCode = currency;
      v.Amount = scaleDecimal(v.Amount, k);
      return;
    }
    for (const key of Object.keys(v)) setMoney(v[key], currency, k);
  }
}

function generate(acc, idx, p) {
  const doc = instantiate(p.tpl, p.created, p.mod);
  const o = doc.order;
  const [currency, channel] = MARKETPLACES[acc.region];
  const id = `${100 + (fnv1a(acc.seed) % 900)}-${time.pad(acc.number, 7)}-${time.pad(idx, 7)}`;
  o.AmazonOrderId = id;
  o.MarketplaceId = acc.region;
  o.SalesChannel = channel;
  o.PurchaseDate = time.isoZ(p.created);
  o.LastUpdateDate = time.isoZ(p.mod);
  const items = acc.lean ? doc.items.slice(0, 1) : doc.items;
  items.forEach((it, j) => {
    it.OrderItemId = `${time.pad(acc.number, 6)}${time.pad(idx, 7)}${time.pad(j, 2)}`;
  });
  // JPY has no minor unit: the template's cents become whole yen.
  const k = p.factor * (currency === 'JPY' ? 100 : 1);
  setMoney(o, currency, k);
  setMoney(items, currency, k);
  return { id, created: p.created, mod: p.mod, doc: { order: o, items } };
}

// Forward along Pending -> Unshipped -> Shipped; Shipped and Canceled stay
// (v2026-01-01: a Shipped order's package is delivered next).
function advance(acc, order, now) {
  const o = order.doc.order;
  const next = NEXT_STATUS[o.OrderStatus];
  if (!next && o.OrderStatus === 'Shipped' && acc.ordersApi === v2026.VERSION) order.delivered = true;
  if (next) {
    o.OrderStatus = next;
    if (next === 'Shipped') {
      let n = 0;
      for (const it of order.doc.items) {
        it.QuantityShipped = it.QuantityOrdered;
        n += it.QuantityOrdered;
      }
      o.NumberOfItemsShipped = n;
      o.NumberOfItemsUnshipped = 0;
    }
  }
  order.mod = time.floorSec(now);
  o.LastUpdateDate = time.isoZ(order.mod);
}

// updated_at as adapters/amazon.c derives it: LastUpdateDate; the order's
// total as stated and the sum of its item prices, or null where none is given.
function summary(order) {
  const o = order.doc.order;
  const priced = order.doc.items.filter((it) => it.ItemPrice);
  let subtotal = null;
  if (priced.length) {
    const cents = priced.reduce((a, it) => a + BigInt(scaleDecimal(it.ItemPrice.Amount, 100).replace(/\..*$/, '')), 0n);
    const neg = cents < 0n;
    const abs = neg ? -cents : cents;
    subtotal = `${neg ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
  }
  return {
    external_order_id: o.AmazonOrderId,
    updated_at: time.isoZ(time.parseIso(o.LastUpdateDate)),
    items: order.doc.items.length,
    total_amount: o.OrderTotal ? o.OrderTotal.Amount : null,
    subtotal,
  };
}

const orderJson = (o) => mk.cached(o, 'order', () => JSON.stringify(o.doc.order));
const itemsJson = (o) => mk.cached(o, 'items', () => o.doc.items.map((x) => JSON.stringify(x)));

function apiHeaders(ctx, acc) {
  return {
    'Content-Type': 'application/json',
    'x-amzn-RequestId': crypto.randomUUID(),
    'x-amzn-RateLimit-Limit': String((acc && acc.amazonRateLimit) || ctx.opts.amazonRateLimit),
  };
}

function common(ctx) {
  mk.requireUserAgent(ctx, fail);
  mk.requireAccept(ctx, 'application/json', fail, 400);
  return mk.authToken(ctx, ctx.headers['x-amz-access-token'], fail, 403);
}

function token(ctx) {
  mk.requireUserAgent(ctx, mk.oauthRequestFail);
  const f = mk.requireForm(ctx);
  if (f.get('grant_type') !== 'refresh_token') {
    mk.oauthFail(400, 'unsupported_grant_type', `grant_type must be refresh_token (got ${f.get('grant_type')})`);
  }
  for (const k of ['refresh_token', 'client_id', 'client_secret']) {
    if (!f.get(k)) mk.oauthFail(400, 'invalid_request', `${k} is missing`);
  }
  const clients = ctx.store.byCredential(M, 'lwa_client_id', f.get('client_id'))
    .filter((a) => a.credentials.lwa_client_secret === f.get('client_secret'));
  if (!clients.length) mk.oauthFail(401, 'invalid_client', 'Client authentication failed', 'unknown client or wrong secret');
  const acc = clients.find((a) => a.credentials.refresh_token === f.get('refresh_token'));
  if (!acc) mk.oauthFail(400, 'invalid_grant', 'The request has an invalid grant parameter : refresh_token', 'unknown refresh token');
  const t = ctx.issueToken(acc, 3600, 'Atza|');
  return json(200, {
    access_token: t.token, refresh_token: f.get('refresh_token'), token_type: 'bearer', expires_in: t.lifetime,
  }, { 'Content-Type': 'application/json;charset=UTF-8' });
}

function checkMarketplaceIds(ctx, acc) {
  const v = ctx.query.get('MarketplaceIds');
  if (!v) fail(400, "Missing required 'MarketplaceIds'.", 'MarketplaceIds missing');
  for (const id of v.split(',')) {
    if (!MARKETPLACES[id]) fail(400, `Invalid MarketplaceIds: '${id}' is not a marketplace id.`, `unknown marketplace id ${id}`);
    if (id !== acc.region) {
      fail(400, `The seller is not registered in marketplace '${id}'.`, `MarketplaceIds ${id} is not the account's ${acc.region}`);
    }
  }
}

const LIST_PARAMS = ['MarketplaceIds', 'LastUpdatedAfter', 'LastUpdatedBefore', 'CreatedAfter', 'CreatedBefore',
  'MaxResultsPerPage', 'NextToken', 'OrderStatuses', 'FulfillmentChannels'];

function listFilter(ctx) {
  const lua = mk.timeParam(ctx, 'LastUpdatedAfter', fail, { zOnly: true });
  const lub = mk.timeParam(ctx, 'LastUpdatedBefore', fail, { zOnly: true });
  const ca = mk.timeParam(ctx, 'CreatedAfter', fail, { zOnly: true });
  const cb = mk.timeParam(ctx, 'CreatedBefore', fail, { zOnly: true });
  if (lua == null && ca == null) {
    fail(400, 'Either CreatedAfter or LastUpdatedAfter must be specified.', 'neither LastUpdatedAfter nor CreatedAfter (nor NextToken)');
  }
  if (lua != null && ca != null) fail(400, 'CreatedAfter and LastUpdatedAfter cannot both be specified.', 'both CreatedAfter and LastUpdatedAfter');
  if ((lub != null && lua == null) || (cb != null && ca == null)) fail(400, 'A Before filter needs its After filter.', 'Before without After');
  for (const [n, t] of [['LastUpdatedBefore', lub], ['CreatedBefore', cb]]) {
    if (t != null && t > ctx.now - 120000) fail(400, `${n} must be at least 2 minutes before the request time.`, `${n} less than 2 minutes ago`);
  }
  const list = (name, allowed) => {
    const v = ctx.query.get(name);
    if (v == null) return null;
    const vals = v.split(',');
    for (const s of vals) if (!allowed.includes(s)) fail(400, `${name}: invalid value '${s}'.`, `${name} invalid value`);
    return vals;
  };
  return {
    u: lua != null,
    a: lua != null ? lua : ca,
    b: lua != null ? lub : cb,
    n: mk.intParam(ctx, 'MaxResultsPerPage', { min: 1, max: 100, def: 100 }, fail),
    s: list('OrderStatuses', STATUSES),
    c: list('FulfillmentChannels', ['AFN', 'MFN']),
  };
}

// v0 calls of an account that lists with v2026-01-01 are mistakes of the client.
function v0Only(acc) {
  if (acc.ordersApi === v2026.VERSION) {
    fail(400, `This seller lists orders with Orders API ${v2026.VERSION}: use /orders/${v2026.VERSION}/orders.`,
      `Orders API v0 call for an account on ${v2026.VERSION}`);
  }
  return acc;
}

function list(ctx) {
  const acc = v0Only(common(ctx));
  mk.checkParams(ctx, LIST_PARAMS, fail);
  checkMarketplaceIds(ctx, acc);
  let f;
  let after = null;
  const nt = ctx.query.get('NextToken');
  if (nt != null) {
    // The token stands for the original filters (Amazon: it overrides them).
    const t = mk.decodeCursor(nt);
    if (!t || t.acc !== acc.id || !t.f) fail(400, 'Invalid NextToken.', 'NextToken not issued for this account');
    f = t.f;
    after = t.after;
  } else {
    f = listFilter(ctx);
  }
  const key = (o) => (f.u ? o.mod : o.created);
  const all = ctx.store.filtered(acc, f.u ? 'modAsc' : 'createdAsc', JSON.stringify(f), (o) => {
    const t = key(o);
    return t >= f.a && (f.b == null || t <= f.b) &&
      (!f.s || f.s.includes(o.doc.order.OrderStatus)) &&
      (!f.c || f.c.includes(o.doc.order.FulfillmentChannel));
  });
  const start = after ? mk.afterKey(all, key, after[0], after[1]) : 0;
  const page = all.slice(start, start + f.n);
  const last = page[page.length - 1];
  const more = start + f.n < all.length;
  ctx.served = { page, earlier: all.slice(0, start) };
  let tail = ']';
  if (more) tail += `,"NextToken":${JSON.stringify(mk.encodeCursor({ acc: acc.id, f, after: [key(last), last.id] }))}`;
  tail += `,"${f.u ? 'LastUpdatedBefore' : 'CreatedBefore'}":"${time.isoZ(f.b != null ? f.b : ctx.now)}"}}`;
  return { status: 200, body: mk.body('{"payload":{"Orders":[', mk.list(page.map(orderJson)), tail), headers: apiHeaders(ctx, acc) };
}

function orderOf(ctx, acc, seg) {
  const id = mk.decodeSegment(seg);
  const o = acc.byId.get(id);
  if (!o) fail(404, `Order ${id} was not found.`, 'unknown AmazonOrderId');
  return o;
}

function items(ctx, m) {
  const acc = v0Only(common(ctx));
  mk.checkParams(ctx, ['NextToken'], fail);
  const order = orderOf(ctx, acc, m[1]);
  const all = itemsJson(order);
  const size = acc.itemsPageSize || 100;
  let start = 0;
  const nt = ctx.query.get('NextToken');
  if (nt != null) {
    const t = mk.decodeCursor(nt);
    if (!t || t.order !== order.id || !Number.isInteger(t.at)) fail(400, 'Invalid NextToken.', 'items NextToken not issued for this order');
    start = t.at;
  }
  let tail = ']';
  if (start + size < all.length) tail += `,"NextToken":${JSON.stringify(mk.encodeCursor({ order: order.id, at: start + size }))}`;
  tail += `,"AmazonOrderId":${JSON.stringify(order.id)}}}`;
  return { status: 200, body: mk.body('{"payload":{"OrderItems":[', mk.list(all.slice(start, start + size)), tail), headers: apiHeaders(ctx, acc) };
}

function getOrder(ctx, m) {
  const acc = v0Only(common(ctx));
  mk.checkParams(ctx, [], fail);
  const order = orderOf(ctx, acc, m[1]);
  return { status: 200, body: mk.body('{"payload":', orderJson(order), '}'), headers: apiHeaders(ctx, acc) };
}

const search = v2026.makeSearch({ common, fail, apiHeaders, marketplaceName: (acc) => MARKETPLACES[acc.region][1] });

const routes = [
  { method: 'POST', re: /^\/auth\/o2\/token$/, name: 'POST /auth/o2/token', fn: token, kind: 'token' },
  { method: 'GET', re: /^\/orders\/v0\/orders$/, name: 'GET /orders/v0/orders', fn: list, kind: 'list' },
  { method: 'GET', re: /^\/orders\/v0\/orders\/([^/]+)\/orderItems$/, name: 'GET /orders/v0/orders/{orderId}/orderItems', fn: items },
  { method: 'GET', re: /^\/orders\/v0\/orders\/([^/]+)$/, name: 'GET /orders/v0/orders/{orderId}', fn: getOrder },
  { method: 'GET', re: /^\/orders\/2026-01-01\/orders$/, name: 'GET /orders/2026-01-01/orders', fn: search, kind: 'list' },
];

function identify(ctx, route) {
  if (route && route.kind === 'token') {
    const f = new URLSearchParams(ctx.body);
    return ctx.store.byCredential(M, 'refresh_token', f.get('refresh_token'))[0] || null;
  }
  return mk.accountByToken(ctx, ctx.headers['x-amz-access-token']);
}

module.exports = {
  name: M, msPrecision: false, contentType: 'application/json', load, validate, identity, error,
  throttleHeaders, generate, advance, summary, routes, identify,
  templates: () => templates, leanTemplates: () => leanTemplates,
};

'use strict';
// Walmart Marketplace Orders API v3 (doc/sync_protocol.md "Walmart").
//
// Every request needs WM_SVC.NAME and WM_QOS.CORRELATION_ID.  Lists are
// newest purchase order first; nextCursor is a ready-made query string
// starting with '?' that repeats the filters and carries the next offset
// (poIndex), like Walmart's.  A PO has no last-modified field: it is the
// latest line statusDate, which is what lastModifiedStartDate filters on.
//
// An account of region "ca" sells on Walmart Canada: its orders are in CAD
// and ship to Canadian addresses, its list is /v3/ca/orders (nextCursor
// appended to that path), and every call, token included, names the
// market in WM_MARKET: ca.  An account's orders are never served under
// the other market's path or header: a request that mixes them is refused.

const path = require('node:path');
const { json, encodeQueryValue, acceptIncludes } = require('./http');
const mk = require('./market');
const { makeTemplate, instantiate } = require('./gen');
const time = require('./time');
const { scaleNumber } = require('./money');

const M = 'walmart';
const LINE_NEXT = { Created: 'Acknowledged', Acknowledged: 'Shipped', Shipped: 'Delivered' };

let templates = [];
let leanTemplates = [];
// Where the generated orders of Canadian accounts ship, the fixture's own first.
let caAddresses = [];
const CA_MORE = [
  ['Olivia Chen', '88 Sample Street', 'Toronto', 'ON', 'M5V 2T6'],
  ['Liam MacDonald', '4 Exemple Crescent', 'Halifax', 'NS', 'B3H 1A1'],
  ['Sophie Gagnon', '350 boulevard Exemple', 'Montréal', 'QC', 'H2X 1Y4'],
  ['Noah Singh', '1207 Sample Avenue SW', 'Calgary', 'AB', 'T2R 0B4'],
];
const MARKETS = { us: 'us', ca: 'ca' };

function linesChanged(o) {
  return Math.max(...o.orderLines.orderLine.map((l) => l.statusDate));
}

function load(dir) {
  templates = [];
  for (const f of ['orders_page1.json', 'orders_page2.json']) {
    for (const o of mk.readJson(path.join(dir, M, f)).list.elements.order) {
      templates.push(makeTemplate(o.purchaseOrderId, { order: o }, o.orderDate, linesChanged(o),
        { nitems: o.orderLines.orderLine.length }));
    }
  }
  leanTemplates = templates.filter((t) => t.nitems === 1);
  const ca = mk.readJson(path.join(dir, M, 'orders_ca_market.json')).list.elements.order[0];
  caAddresses = [ca.shippingInfo.postalAddress].concat(CA_MORE.map(([name, address1, city, state, postalCode]) => ({
    name, address1, address2: null, city, state, postalCode, country: 'CAN', addressType: 'RESIDENTIAL',
  })));
}

// The market an account sells on: "us" (also when no region was given) or "ca".
function market(acc) {
  return acc.region == null ? 'us' : acc.region;
}

function validate(spec) {
  for (const k of ['client_id', 'client_secret']) {
    if (typeof spec.credentials[k] !== 'string' || !spec.credentials[k]) return `credentials.${k} is required`;
  }
  if (spec.region != null && !MARKETS[spec.region]) return `region must be us or ca (Walmart Canada), got ${spec.region}`;
  return null;
}

function identity(acc) {
  return acc.credentials.client_id;
}

const CODES = {
  400: ['INVALID_REQUEST.GMP_ORDER_API', 'DATA'],
  401: ['UNAUTHORIZED.GMP_GATEWAY_API', 'DATA'],
  404: ['CONTENT_NOT_FOUND.GMP_ORDER_API', 'DATA'],
  406: ['INVALID_REQUEST_HEADER.GMP_GATEWAY_API', 'DATA'],
  429: ['REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API', 'REQUEST'],
  500: ['SYSTEM_ERROR.GMP_ORDER_API', 'SYSTEM'],
  503: ['SERVICE_UNAVAILABLE.GMP_GATEWAY_API', 'SYSTEM'],
};

function error(status, message, extra) {
  const [code, category] = CODES[status] || CODES[400];
  const e = {
    code: (extra && extra.code) || code,
    field: (extra && extra.field) || (status === 401 ? 'UNAUTHORIZED' : undefined),
    description: status === 401 ? 'Unauthorized' : message,
    info: status === 401 ? 'Unauthorized token or token is expired.' : message,
    severity: 'ERROR',
    category,
    causes: [],
    errorIdentifiers: {},
  };
  return { body: JSON.stringify({ errors: { error: [e] } }), headers: { 'Content-Type': 'application/json' } };
}
const fail = mk.makeFail(error);

function throttleHeaders(fault, now) {
  const wait = fault.retry_after != null ? Number(fault.retry_after) : 1;
  return { 'X-Current-Token-Count': '0', 'X-Next-Replenishment-Time': String(Math.round(now + wait * 1000)) };
}

function setMoney(v, k) {
  if (k === 1) return;
  if (Array.isArray(v)) {
    for (const x of v) setMoney(x, k);
  } else if (v && typeof v === 'object') {
    if (typeof v.amount === 'number' && typeof v.currency === 'string') {
      v.amount = scaleNumber(v.amount, k);
      return;
    }
    for (const key of Object.keys(v)) setMoney(v[key], k);
  }
}

function setCurrency(v, currency) {
  if (Array.isArray(v)) {
    for (const x of v) setCurrency(x, currency);
  } else if (v && typeof v === 'object') {
    if (typeof v.currency === 'string') v.currency = currency;
    for (const key of Object.keys(v)) setCurrency(v[key], currency);
  }
}

// A US template made Canadian: CAD, a Canadian address, Walmart Canada's relay.
function canadian(o, idx) {
  setCurrency(o, 'CAD');
  o.shippingInfo.postalAddress = { ...caAddresses[idx % caAddresses.length] };
  o.shippingInfo.phone = `41855${time.pad(idx % 100000, 5)}`;
  if (typeof o.customerEmailId === 'string') o.customerEmailId = o.customerEmailId.replace(/@relay\.walmart\.com$/, '@relay.walmart.ca');
}

function generate(acc, idx, p) {
  const doc = instantiate(p.tpl, p.created, p.mod);
  const o = doc.order;
  const id = `1${time.pad(acc.number, 6)}${time.pad(idx, 8)}`;
  o.purchaseOrderId = id;
  o.customerOrderId = `2${time.pad(acc.number, 6)}${time.pad(idx, 8)}`;
  o.orderDate = p.created;
  if (acc.lean) o.orderLines.orderLine = o.orderLines.orderLine.slice(0, 1);
  for (const l of o.orderLines.orderLine) l.statusDate = p.mod;
  setMoney(o, p.factor);
  if (market(acc) === 'ca') canadian(o, idx);
  return { id, created: p.created, mod: p.mod, doc: { order: o } };
}

// Created -> Acknowledged -> Shipped -> Delivered, per line; a cancelled
// line stays cancelled.
function advance(acc, order, now) {
  order.mod = now;
  for (const l of order.doc.order.orderLines.orderLine) {
    for (const s of l.orderLineStatuses.orderLineStatus) if (LINE_NEXT[s.status]) s.status = LINE_NEXT[s.status];
    l.statusDate = now;
  }
}

function summary(order) {
  return {
    external_order_id: order.doc.order.purchaseOrderId,
    updated_at: time.isoZ(linesChanged(order.doc.order)),
    items: order.doc.order.orderLines.orderLine.length,
  };
}

const orderJson = (o) => mk.cached(o, 'order', () => JSON.stringify(o.doc.order));

function walmartHeaders(ctx) {
  for (const h of ['wm_svc.name', 'wm_qos.correlation_id']) {
    if (!ctx.headers[h]) {
      fail(400, `${h.toUpperCase()} set null or invalid`, `${h.toUpperCase()} header missing`,
        { code: 'INVALID_REQUEST_HEADER.GMP_GATEWAY_API', field: h.toUpperCase() });
    }
  }
  mk.requireUserAgent(ctx, fail);
}

// WM_MARKET names the market; without it Walmart takes the US one.
function requestMarket(ctx) {
  const m = ctx.headers.wm_market;
  return m == null || m === '' ? 'us' : String(m).toLowerCase();
}

// The account's market must be the one the request names, by header and,
// for lists, by path: a Canadian seller's orders are not the US market's.
function requireMarket(ctx, acc, pathMarket) {
  const want = market(acc);
  const named = requestMarket(ctx);
  if (named !== want) {
    fail(400, `The seller is not registered in market '${named}'.`,
      `WM_MARKET ${named} is not the account's market ${want}`, { code: 'INVALID_REQUEST_HEADER.GMP_GATEWAY_API', field: 'WM_MARKET' });
  }
  if (pathMarket != null && pathMarket !== want) {
    fail(400, `The seller is not registered in market '${pathMarket}'.`,
      `${pathMarket === 'ca' ? '/v3/ca/orders' : '/v3/orders'} is not the list of a ${want} account`);
  }
}

function apiHeaders(ctx) {
  return {
    'Content-Type': 'application/json',
    'WM_QOS.CORRELATION_ID': ctx.headers['wm_qos.correlation_id'],
    'X-Current-Token-Count': '19',
  };
}

function authenticate(ctx) {
  walmartHeaders(ctx);
  const acc = mk.authToken(ctx, ctx.headers['wm_sec.access_token'], fail, 401);
  mk.requireAccept(ctx, 'application/json', fail, 406);
  return acc;
}

function token(ctx) {
  walmartHeaders(ctx);
  if (!acceptIncludes(ctx.headers.accept, 'application/json')) {
    mk.oauthFail(406, 'invalid_request', 'Accept must be application/json (Walmart answers XML otherwise)', 'token Accept not application/json');
  }
  const accs = mk.basicClient(ctx, 'client_id', 'client_secret');
  requireMarket(ctx, accs[0], null);
  const f = mk.requireForm(ctx);
  if (f.get('grant_type') !== 'client_credentials') {
    mk.oauthFail(400, 'unsupported_grant_type', `grant_type must be client_credentials (got ${f.get('grant_type')})`);
  }
  const t = ctx.issueToken(accs[0], 900, 'eyJraWQi');
  return json(200, { access_token: t.token, token_type: 'Bearer', expires_in: t.lifetime },
    { 'WM_QOS.CORRELATION_ID': ctx.headers['wm_qos.correlation_id'] });
}

const FILTERS = ['lastModifiedStartDate', 'lastModifiedEndDate', 'createdStartDate', 'createdEndDate', 'status',
  'purchaseOrderId', 'customerOrderId', 'sku', 'productInfo', 'shipNodeType', 'replacementInfo', 'incentiveInfo'];
const CURSOR = ['hasMoreElements', 'soIndex', 'poIndex', 'partnerId', 'sellerId'];

function list(ctx, pathMarket) {
  const acc = authenticate(ctx);
  requireMarket(ctx, acc, pathMarket);
  mk.checkParams(ctx, FILTERS.concat(CURSOR, ['limit']), fail);
  const limit = mk.intParam(ctx, 'limit', { min: 1, max: 200, def: 100 }, fail);
  const offset = mk.intParam(ctx, 'poIndex', { min: 0, def: 0 }, fail);
  const f = {};
  for (const name of ['lastModifiedStartDate', 'lastModifiedEndDate', 'createdStartDate', 'createdEndDate']) {
    const t = mk.timeParam(ctx, name, fail);
    if (t != null) f[name] = t;
  }
  for (const name of ['productInfo', 'replacementInfo', 'incentiveInfo']) {
    const v = ctx.query.get(name);
    if (v != null && v !== 'true' && v !== 'false') fail(400, `${name} must be true or false`, `${name} value`);
  }
  for (const name of ['status', 'purchaseOrderId', 'customerOrderId', 'sku', 'shipNodeType']) if (ctx.query.get(name) != null) f[name] = ctx.query.get(name);
  const all = ctx.store.filtered(acc, 'createdDesc', JSON.stringify(f), (o) => {
    const d = o.doc.order;
    if (f.lastModifiedStartDate != null && o.mod < f.lastModifiedStartDate) return false;
    if (f.lastModifiedEndDate != null && o.mod > f.lastModifiedEndDate) return false;
    if (f.createdStartDate != null && o.created < f.createdStartDate) return false;
    if (f.createdEndDate != null && o.created > f.createdEndDate) return false;
    if (f.purchaseOrderId && d.purchaseOrderId !== f.purchaseOrderId) return false;
    if (f.customerOrderId && d.customerOrderId !== f.customerOrderId) return false;
    if (f.status && !d.orderLines.orderLine.some((l) => l.orderLineStatuses.orderLineStatus.some((s) => s.status === f.status))) return false;
    if (f.sku && !d.orderLines.orderLine.some((l) => l.item && l.item.sku === f.sku)) return false;
    if (f.shipNodeType && (!d.shipNode || d.shipNode.type !== f.shipNodeType)) return false;
    return true;
  });
  const page = all.slice(offset, offset + limit);
  ctx.served = { page, earlier: all.slice(0, Math.min(offset, all.length)) };
  let next = null;
  if (offset + limit < all.length) {
    const q = [`limit=${limit}`, 'hasMoreElements=true', `soIndex=${all.length}`, `poIndex=${offset + limit}`,
      `partnerId=1000${time.pad(acc.number, 7)}`, `sellerId=${100000 + acc.number}`];
    for (const [k, v] of ctx.query) if (FILTERS.includes(k)) q.push(`${k}=${encodeQueryValue(v)}`);
    next = `?${q.join('&')}`;
  }
  const body = mk.body(`{"list":{"meta":{"totalCount":${all.length},"limit":${limit},"nextCursor":${JSON.stringify(next)}},` +
    '"elements":{"order":[', mk.list(page.map(orderJson)), ']}}}');
  return { status: 200, body, headers: apiHeaders(ctx) };
}

function getOrder(ctx, m) {
  const acc = authenticate(ctx);
  requireMarket(ctx, acc, null);
  mk.checkParams(ctx, ['productInfo', 'replacementInfo'], fail);
  const o = acc.byId.get(mk.decodeSegment(m[1]));
  if (!o) fail(404, 'Purchase order not found', 'unknown purchaseOrderId');
  return { status: 200, body: mk.body('{"order":', orderJson(o), '}'), headers: apiHeaders(ctx) };
}

const routes = [
  { method: 'POST', re: /^\/v3\/token$/, name: 'POST /v3/token', fn: token, kind: 'token' },
  { method: 'GET', re: /^\/v3\/orders$/, name: 'GET /v3/orders', fn: (ctx) => list(ctx, 'us'), kind: 'list' },
  { method: 'GET', re: /^\/v3\/ca\/orders$/, name: 'GET /v3/ca/orders', fn: (ctx) => list(ctx, 'ca'), kind: 'list' },
  { method: 'GET', re: /^\/v3\/orders\/([^/]+)$/, name: 'GET /v3/orders/{purchaseOrderId}', fn: getOrder },
];

function identify(ctx, route) {
  if (route && route.kind === 'token') return mk.accountByBasic(ctx, 'client_id');
  return mk.accountByToken(ctx, ctx.headers['wm_sec.access_token']);
}

module.exports = {
  name: M, msPrecision: true, contentType: 'application/json', load, validate, identity, error,
  throttleHeaders, generate, advance, summary, routes, identify,
  templates: () => templates, leanTemplates: () => leanTemplates,
};

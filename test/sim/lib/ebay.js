'use strict';
// eBay Sell Fulfillment API getOrders (doc/sync_protocol.md "eBay").
//
// offset/limit over the orders newest-modified first (the doc's choice;
// eBay does not document an order).  `next` repeats the request's filter
// with the following offset; the page after the last still answers, with
// "orders": [].

const path = require('node:path');
const crypto = require('node:crypto');
const { json, encodeQueryValue } = require('./http');
const mk = require('./market');
const { makeTemplate, instantiate } = require('./gen');
const { fnv1a } = require('./rand');
const time = require('./time');
const { scaleDecimal } = require('./money');

const M = 'ebay';
const SCOPES = [
  'https://api.ebay.com/oauth/api_scope',
  'https://api.ebay.com/oauth/api_scope/sell.fulfillment',
  'https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly',
];
const FULFILLMENT = ['NOT_STARTED', 'IN_PROGRESS', 'FULFILLED'];
// eBay requires milliseconds and Z in filter times.
const EBAY_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let templates = [];
let leanTemplates = [];

function load(dir) {
  templates = [];
  for (const f of ['orders_page1.json', 'orders_page2.json']) {
    for (const o of mk.readJson(path.join(dir, M, f)).orders) {
      templates.push(makeTemplate(o.orderId, { order: o }, time.parseIso(o.creationDate),
        time.parseIso(o.lastModifiedDate), { nitems: o.lineItems.length }));
    }
  }
  leanTemplates = templates.filter((t) => t.nitems === 1);
}

function validate(spec) {
  for (const k of ['client_id', 'client_secret', 'refresh_token']) {
    if (typeof spec.credentials[k] !== 'string' || !spec.credentials[k]) return `credentials.${k} is required`;
  }
  return null;
}

function identity(acc) {
  return acc.credentials.refresh_token;
}

const ERRORS = {
  400: [30800, 'API_FULFILLMENT', 'REQUEST'],
  401: [1001, 'OAuth', 'REQUEST'],
  403: [1100, 'ACCESS', 'REQUEST'],
  404: [32100, 'API_FULFILLMENT', 'REQUEST'],
  406: [1100, 'ACCESS', 'REQUEST'],
  429: [2001, 'ACCESS', 'REQUEST'],
  500: [30500, 'API_FULFILLMENT', 'APPLICATION'],
  503: [30500, 'API_FULFILLMENT', 'APPLICATION'],
};

function error(status, message) {
  const [errorId, domain, category] = ERRORS[status] || ERRORS[400];
  let msg = message;
  let long = message;
  if (status === 401) {
    msg = 'Invalid access token';
    long = 'Invalid access token. Check the value of the Authorization HTTP request header.';
  } else if (status === 429) {
    msg = 'Too many requests';
    long = 'The request limit has been reached for the resource.';
  }
  return {
    body: JSON.stringify({ errors: [{ errorId, domain, category, message: msg, longMessage: long }] }),
    headers: { 'Content-Type': 'application/json' },
  };
}
const fail = mk.makeFail(error);

function throttleHeaders() {
  return {};
}

function setMoney(v, k) {
  if (k === 1) return;
  if (Array.isArray(v)) {
    for (const x of v) setMoney(x, k);
  } else if (v && typeof v === 'object') {
    if (typeof v.value === 'string' && typeof v.currency === 'string') {
      v.value = scaleDecimal(v.value, k);
      return;
    }
    for (const key of Object.keys(v)) setMoney(v[key], k);
  }
}

function generate(acc, idx, p) {
  const doc = instantiate(p.tpl, p.created, p.mod);
  const o = doc.order;
  const old = o.orderId;
  const id = `${time.pad(10 + (fnv1a(acc.seed) % 90), 2)}-${time.pad(acc.number, 5)}-${time.pad(idx, 5)}`;
  o.orderId = id;
  o.legacyOrderId = id;
  o.salesRecordReference = String(idx + 1);
  o.creationDate = time.isoZ(p.created, 3);
  o.lastModifiedDate = time.isoZ(p.mod, 3);
  if (acc.lean) o.lineItems = o.lineItems.slice(0, 1);
  o.lineItems.forEach((l, j) => {
    l.lineItemId = `1${time.pad(acc.number, 6)}${time.pad(idx, 6)}${j}`;
  });
  if (Array.isArray(o.fulfillmentHrefs)) o.fulfillmentHrefs = o.fulfillmentHrefs.map((h) => h.replace(old, id));
  setMoney(o, p.factor);
  return { id, created: p.created, mod: p.mod, doc: { order: o } };
}

// NOT_STARTED -> IN_PROGRESS -> FULFILLED, a pending payment is paid
// first; cancelled and refunded orders only change their date.
function advance(acc, order, now) {
  const o = order.doc.order;
  const cancelled = o.cancelStatus && o.cancelStatus.cancelState === 'CANCELED';
  const refunded = /REFUNDED/.test(o.orderPaymentStatus || '');
  if (!cancelled && !refunded) {
    if (o.orderPaymentStatus === 'PENDING') {
      o.orderPaymentStatus = 'PAID';
    } else {
      const i = FULFILLMENT.indexOf(o.orderFulfillmentStatus);
      if (i >= 0 && i < 2) {
        o.orderFulfillmentStatus = FULFILLMENT[i + 1];
        for (const l of o.lineItems) l.lineItemFulfillmentStatus = FULFILLMENT[i + 1];
      }
    }
  }
  order.mod = now;
  o.lastModifiedDate = time.isoZ(now, 3);
}

function summary(order) {
  return {
    external_order_id: order.doc.order.orderId,
    updated_at: time.isoZ(time.parseIso(order.doc.order.lastModifiedDate)),
    items: order.doc.order.lineItems.length,
  };
}

const orderJson = (o) => mk.cached(o, 'order', () => JSON.stringify(o.doc.order));

function apiHeaders() {
  return { 'Content-Type': 'application/json', 'X-EBAY-C-REQUEST-ID': crypto.randomUUID() };
}

// The Notification API wants an application token (client credentials);
// the Fulfillment API a seller's (refresh token).  Each refuses the other.
function common(ctx, { app = false } = {}) {
  mk.requireUserAgent(ctx, fail);
  mk.requireAccept(ctx, 'application/json', fail, 406);
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.headers.authorization || '');
  const acc = mk.authToken(ctx, m && m[1], fail, 401);
  if (Boolean(ctx.store.lookupToken(m[1]).app) !== app) {
    fail(403, 'Insufficient permissions to fulfill the request.',
      app ? 'a user token where an application token is required' : 'an application token where a user token is required');
  }
  return acc;
}

// Webhook signing: one P-256 key pair per simulator run, as eBay's
// Notification API holds for an application.
const signing = (() => {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  // getPublicKey writes the PEM on one line
  return { kid: crypto.randomUUID(), privateKey, pem: `-----BEGIN PUBLIC KEY-----${der}-----END PUBLIC KEY-----` };
})();

// X-EBAY-SIGNATURE: base64 of {alg, kid, signature, digest}, the signature
// DER ECDSA with SHA-1 over the body bytes.  kid may name another key.
function signWebhook(body, kid) {
  const signature = crypto.sign('sha1', Buffer.from(body), signing.privateKey).toString('base64');
  const header = Buffer.from(JSON.stringify({ alg: 'ecdsa', kid: kid || signing.kid, signature, digest: 'SHA1' })).toString('base64');
  return { key_id: kid || signing.kid, headers: { 'X-EBAY-SIGNATURE': header } };
}

function publicKey(ctx, m) {
  common(ctx, { app: true });
  mk.checkParams(ctx, [], fail);
  if (mk.decodeSegment(m[1]) !== signing.kid) fail(404, 'Resource not found', 'unknown public_key_id');
  return json(200, { algorithm: 'ECDSA', digest: 'SHA1', key: signing.pem }, apiHeaders());
}

function token(ctx) {
  mk.requireUserAgent(ctx, mk.oauthRequestFail);
  const clients = mk.basicClient(ctx, 'client_id', 'client_secret');
  const f = mk.requireForm(ctx);
  if (f.get('grant_type') === 'client_credentials') {
    // an application token: the base scope only, no refresh token
    if (f.get('scope') !== SCOPES[0]) mk.oauthFail(400, 'invalid_scope', `the requested scope is invalid: ${f.get('scope')}`);
    if (f.has('refresh_token')) mk.oauthFail(400, 'invalid_request', 'refresh_token is not part of a client_credentials grant');
    const t = ctx.issueToken(clients[0], 7200, 'v^1.1#i^1#app#', true);
    return json(200, { access_token: t.token, expires_in: t.lifetime, token_type: 'Application Access Token' });
  }
  if (f.get('grant_type') !== 'refresh_token') {
    mk.oauthFail(400, 'unsupported_grant_type', `grant_type must be refresh_token (got ${f.get('grant_type')})`);
  }
  if (!f.get('refresh_token')) mk.oauthFail(400, 'invalid_request', 'refresh_token is missing');
  const scope = f.get('scope');
  if (!scope) mk.oauthFail(400, 'invalid_scope', 'scope is missing', 'scope missing');
  const scopes = scope.split(' ');
  if (scopes.some((s) => !SCOPES.includes(s)) || !scopes.some((s) => s.includes('sell.fulfillment'))) {
    mk.oauthFail(400, 'invalid_scope', `the requested scope is invalid: ${scope}`);
  }
  const acc = clients.find((a) => a.credentials.refresh_token === f.get('refresh_token'));
  if (!acc) {
    mk.oauthFail(400, 'invalid_grant', 'the provided authorization refresh token is invalid or was issued to another client',
      'unknown refresh token');
  }
  const t = ctx.issueToken(acc, 7200, 'v^1.1#i^1#');
  return json(200, { access_token: t.token, expires_in: t.lifetime, token_type: 'User Access Token' });
}

// filter=lastmodifieddate:[a..b],creationdate:[a..],orderfulfillmentstatus:{A|B}
function parseFilter(text) {
  const f = {};
  if (text == null) return f;
  for (const part of text.split(',')) {
    const m = /^([a-z]+):(.*)$/.exec(part.trim());
    if (!m) fail(400, `Invalid filter: '${part}'`, 'filter syntax');
    const [, name, value] = m;
    if (name === 'lastmodifieddate' || name === 'creationdate') {
      const r = /^\[([^.\]]*(?:\.\d{3}Z)?)\.\.([^\]]*)\]$/.exec(value);
      if (!r || !r[1]) fail(400, `Invalid filter value for ${name}: '${value}' (expected [from..] or [from..to])`, `filter ${name} syntax`);
      for (const t of [r[1], r[2]]) {
        if (t && !EBAY_TIME_RE.test(t)) {
          fail(400, `Invalid date in filter ${name}: '${t}' (expected YYYY-MM-DDThh:mm:ss.000Z)`, `filter ${name} time format`);
        }
      }
      f[name] = [time.parseIso(r[1]), r[2] ? time.parseIso(r[2]) : null];
      if (Number.isNaN(f[name][0]) || Number.isNaN(f[name][1])) fail(400, `Invalid date in filter ${name}`, `filter ${name} time`);
    } else if (name === 'orderfulfillmentstatus') {
      const r = /^\{([A-Z_|]+)\}$/.exec(value);
      if (!r || r[1].split('|').some((s) => !FULFILLMENT.includes(s))) {
        fail(400, `Invalid filter value for orderfulfillmentstatus: '${value}'`, 'filter orderfulfillmentstatus syntax');
      }
      f.status = r[1].split('|');
    } else {
      fail(400, `Unsupported filter field '${name}'`, `filter field ${name}`);
    }
  }
  return f;
}

function list(ctx) {
  const acc = common(ctx);
  mk.checkParams(ctx, ['filter', 'limit', 'offset', 'fieldGroups', 'orderIds'], fail);
  const filter = ctx.query.get('filter');
  const f = parseFilter(filter);
  const limit = mk.intParam(ctx, 'limit', { min: 1, max: 200, def: 50 }, fail);
  const offset = mk.intParam(ctx, 'offset', { min: 0, def: 0 }, fail);
  const groups = ctx.query.get('fieldGroups');
  if (groups != null && !['TAX_BREAKDOWN'].includes(groups)) fail(400, `Invalid fieldGroups '${groups}'`, 'fieldGroups value');
  const ids = ctx.query.get('orderIds');
  const idSet = ids != null ? new Set(ids.split(',')) : null;
  if (idSet && idSet.size > 50) fail(400, 'orderIds: at most 50', 'too many orderIds');
  const within = (t, r) => !r || (t >= r[0] && (r[1] == null || t <= r[1]));
  const all = ctx.store.filtered(acc, 'modDesc', `${filter}|${ids}`, (o) => within(o.mod, f.lastmodifieddate) &&
    within(o.created, f.creationdate) && (!f.status || f.status.includes(o.doc.order.orderFulfillmentStatus)) &&
    (!idSet || idSet.has(o.id)));
  const page = all.slice(offset, offset + limit);
  ctx.served = { page, earlier: all.slice(0, Math.min(offset, all.length)) };
  const url = (off) => {
    let q = '';
    if (filter != null) q += `filter=${encodeQueryValue(filter).replace(/%2C/gi, ',')}&`;
    if (ids != null) q += `orderIds=${encodeQueryValue(ids).replace(/%2C/gi, ',')}&`;
    q += `limit=${limit}`;
    if (groups != null) q += `&fieldGroups=${groups}`;
    return `${ctx.base}/sell/fulfillment/v1/order?${q}&offset=${off}`;
  };
  let body = `{"href":${JSON.stringify(url(offset))},"total":${all.length}`;
  if (offset + limit < all.length) body += `,"next":${JSON.stringify(url(offset + limit))}`;
  if (offset > 0) body += `,"prev":${JSON.stringify(url(Math.max(0, offset - limit)))}`;
  body += `,"limit":${limit},"offset":${offset},"orders":[`;
  return { status: 200, body: mk.body(body, mk.list(page.map(orderJson)), ']}'), headers: apiHeaders() };
}

function getOrder(ctx, m) {
  const acc = common(ctx);
  mk.checkParams(ctx, ['fieldGroups'], fail);
  const o = acc.byId.get(mk.decodeSegment(m[1]));
  if (!o) fail(404, 'Order not found', 'unknown orderId');
  return { status: 200, body: orderJson(o), headers: apiHeaders() };
}

const routes = [
  { method: 'POST', re: /^\/identity\/v1\/oauth2\/token$/, name: 'POST /identity/v1/oauth2/token', fn: token, kind: 'token' },
  { method: 'GET', re: /^\/sell\/fulfillment\/v1\/order$/, name: 'GET /sell/fulfillment/v1/order', fn: list, kind: 'list' },
  { method: 'GET', re: /^\/sell\/fulfillment\/v1\/order\/([^/]+)$/, name: 'GET /sell/fulfillment/v1/order/{orderId}', fn: getOrder },
  { method: 'GET', re: /^\/commerce\/notification\/v1\/public_key\/([^/]+)$/, name: 'GET /commerce/notification/v1/public_key/{public_key_id}', fn: publicKey, kind: 'keys' },
];

function identify(ctx, route) {
  if (route && route.kind === 'token') {
    const f = new URLSearchParams(ctx.body);
    return ctx.store.byCredential(M, 'refresh_token', f.get('refresh_token'))[0] || mk.accountByBasic(ctx, 'client_id');
  }
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.headers.authorization || '');
  return mk.accountByToken(ctx, m && m[1]);
}

module.exports = {
  name: M, msPrecision: true, contentType: 'application/json', load, validate, identity, error,
  throttleHeaders, generate, advance, summary, routes, identify, signWebhook,
  templates: () => templates, leanTemplates: () => leanTemplates,
};

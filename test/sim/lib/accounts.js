'use strict';
// Account lifecycle: creation with its generated orders, new orders,
// changed orders.  Shared by the control API and the change_between_pages
// fault.

const gen = require('./gen');
const time = require('./time');

const OPTION_KEYS = ['marketplace', 'credentials', 'region', 'orders', 'seed', 'start', 'step_seconds', 'latency_ms',
  'lean', 'items_page_size', 'token_lifetime', 'amazon_rate_limit', 'orders_api'];

function fail(status, message) {
  const e = new Error(message);
  e.status = status;
  throw e;
}

function newOrder(acc, mod, idx, opts) {
  const p = gen.plan(acc, idx, mod.templates(), Date.now(), { lean: mod.leanTemplates(), msPrecision: mod.msPrecision, ...opts });
  const o = mod.generate(acc, idx, p);
  return { id: o.id, idx, created: o.created, mod: o.mod, doc: o.doc, cache: null };
}

function create(spec, markets, store) {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) fail(400, 'body must be a JSON object');
  for (const k of Object.keys(spec)) if (!OPTION_KEYS.includes(k)) fail(400, `unknown field '${k}' (known: ${OPTION_KEYS.join(', ')})`);
  const mod = markets[spec.marketplace];
  if (!mod) fail(400, `marketplace must be one of ${Object.keys(markets).join(', ')}`);
  if (!spec.credentials || typeof spec.credentials !== 'object') fail(400, 'credentials must be an object');
  if (spec.orders_api != null && spec.marketplace !== 'amazon') fail(400, 'orders_api is an Amazon setting');
  const problem = mod.validate(spec);
  if (problem) fail(400, problem);
  const n = spec.orders == null ? 10 : spec.orders;
  if (!Number.isInteger(n) || n < 0 || n > 1000000) fail(400, 'orders must be an integer from 0 to 1000000');
  const step = spec.step_seconds == null ? 60 : spec.step_seconds;
  if (typeof step !== 'number' || step < 0) fail(400, 'step_seconds must be a non-negative number');
  const now = Date.now();
  let start = now - 86400000;
  if (spec.start != null) {
    start = time.parseIso(spec.start);
    if (Number.isNaN(start)) fail(400, 'start must be an ISO 8601 time with a zone');
  }
  const positive = (k, v) => {
    if (v != null && !(typeof v === 'number' && v >= 0)) fail(400, `${k} must be a non-negative number`);
    return v == null ? null : v;
  };
  const acc = {
    marketplace: spec.marketplace,
    credentials: { ...spec.credentials },
    region: spec.region == null ? null : String(spec.region),
    seed: spec.seed == null ? 'seed' : String(spec.seed),
    start,
    stepMs: step * 1000,
    lean: spec.lean === true,
    latencyMs: positive('latency_ms', spec.latency_ms),
    itemsPageSize: positive('items_page_size', spec.items_page_size) || null,
    tokenLifetime: positive('token_lifetime', spec.token_lifetime) || null,
    amazonRateLimit: spec.amazon_rate_limit == null ? null : String(spec.amazon_rate_limit),
    ordersApi: spec.orders_api == null ? null : String(spec.orders_api),
  };
  const id = mod.identity(acc);
  if (store.ofMarketplace(acc.marketplace).some((a) => mod.identity(a) === id)) {
    fail(409, `another ${acc.marketplace} account has the same identifying credential; the simulator could not tell them apart`);
  }
  // Order ids embed the account number in five digits (bol, Shopify).
  if (store.nextNumber > 99999) fail(400, 'the simulator numbers at most 99999 accounts per run');
  store.addAccount(acc);
  for (let i = 0; i < n; i++) store.addOrder(acc, newOrder(acc, mod, i));
  return acc;
}

// count new orders, created and changed now.
function addOrders(acc, markets, store, count) {
  const mod = markets[acc.marketplace];
  const now = Date.now();
  const out = [];
  for (let k = 0; k < count; k++) {
    const o = newOrder(acc, mod, acc.orders.length, { created: now, mod: now });
    store.addOrder(acc, o);
    out.push(o.id);
  }
  return out;
}

// Advance orders along the marketplace's lifecycle and stamp them now:
// the given ones, or the count least recently changed.
function changeOrders(acc, markets, store, { count, ids, orders }) {
  const mod = markets[acc.marketplace];
  let list = orders;
  if (!list && ids) list = ids.map((id) => acc.byId.get(id) || fail(404, `no order ${id} in ${acc.id}`));
  if (!list) list = store.view(acc, 'modAsc').slice(0, count);
  const now = Date.now();
  for (const o of list) {
    mod.advance(acc, o, now);
    store.touch(acc, o);
  }
  return list.map((o) => o.id);
}

function summaries(acc, markets) {
  const mod = markets[acc.marketplace];
  return acc.orders.map((o) => mod.summary(o));
}

function describe(acc) {
  return {
    account: acc.id,
    marketplace: acc.marketplace,
    region: acc.region,
    orders: acc.orders.length,
    seed: acc.seed,
    lean: acc.lean,
    latency_ms: acc.latencyMs,
    items_page_size: acc.itemsPageSize,
    token_lifetime: acc.tokenLifetime,
    orders_api: acc.ordersApi,
    tokens: acc.tokens.size,
  };
}

module.exports = { create, addOrders, changeOrders, summaries, describe };

'use strict';
// Amazon Selling Partner API, Orders v2026-01-01 searchOrders
// (doc/sync_protocol.md "Amazon", models/orders-api-model/orders_2026-01-01.json
// of amzn/selling-partner-api-models) for accounts created with
// orders_api "2026-01-01".
//
// The orders are the account's own (the v0 documents of amazon.js), shown
// in the v2026 shape: items inline, status from fulfillment, money as the
// items' proceeds breakdowns, and only the sections includedData asks for.
// Lists are keyset-paged as v0's are; a paginationToken names the last
// order served and the filters it was issued for, which a next page must
// repeat with the same values (the model's Pagination: all but
// maxResultsPerPage and includedData).

const mk = require('./market');
const time = require('./time');

const VERSION = '2026-01-01';

const FULFILLMENT_STATUS = {
  PendingAvailability: 'PENDING_AVAILABILITY', Pending: 'PENDING', Unshipped: 'UNSHIPPED',
  PartiallyShipped: 'PARTIALLY_SHIPPED', Shipped: 'SHIPPED', InvoiceUnconfirmed: 'SHIPPED',
  Canceled: 'CANCELLED', Unfulfillable: 'UNFULFILLABLE',
};
const STATUSES = ['PENDING_AVAILABILITY', 'PENDING', 'UNSHIPPED', 'PARTIALLY_SHIPPED', 'SHIPPED', 'CANCELLED', 'UNFULFILLABLE'];
const INCLUDED = ['BUYER', 'RECIPIENT', 'PROCEEDS', 'EXPENSE', 'PROMOTION', 'CANCELLATION', 'FULFILLMENT', 'PACKAGES',
  'TAX', 'PAYMENT', 'FULFILLMENT_ORDERS'];
// The filters a paginationToken stands for.
const FILTERS = ['createdAfter', 'createdBefore', 'lastUpdatedAfter', 'lastUpdatedBefore', 'fulfillmentStatuses',
  'marketplaceIds', 'fulfilledBy'];
const PARAMS = FILTERS.concat(['maxResultsPerPage', 'paginationToken', 'includedData']);

// ---------- money: decimal text to hundredths and back, exactly ----------

function minor(s) {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) throw new Error(`amount ${s} has more than two decimals`);
  const v = BigInt(m[2]) * 100n + BigInt((m[3] || '').padEnd(2, '0'));
  return m[1] ? -v : v;
}

function text(v) {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

const money = (v, currency) => ({ amount: text(v), currencyCode: currency });

// Sum of the amounts of the v0 Money members named (absent ones skipped); null when none is there.
function sum(obj, keys) {
  let total = null;
  for (const k of keys) {
    if (obj[k] && typeof obj[k].Amount === 'string') total = (total || 0n) + minor(obj[k].Amount);
  }
  return total;
}

// ---------- the v2026 shape of an order ----------

function itemProceeds(it, currency) {
  const line = sum(it, ['ItemPrice']);
  if (line == null) return null;	// Canceled and Pending items carry no prices
  const shipping = sum(it, ['ShippingPrice']);
  const taxUp = sum(it, ['ItemTax', 'ShippingTax']);
  const taxDown = sum(it, ['PromotionDiscountTax', 'ShippingDiscountTax']);
  const discount = sum(it, ['PromotionDiscount', 'ShippingDiscount']);
  const parts = [['ITEM', line]];
  if (shipping != null) parts.push(['SHIPPING', shipping]);
  if (taxUp != null || taxDown != null) parts.push(['TAX', (taxUp || 0n) - (taxDown || 0n)]);
  // a discount lowers the proceeds: written negative, as the fixtures do
  if (discount != null) parts.push(['DISCOUNT', -discount]);
  const total = parts.reduce((a, [, v]) => a + v, 0n);
  return {
    proceedsTotal: money(total, currency),
    breakdowns: parts.map(([type, v]) => ({ type, subtotal: money(v, currency) })),
  };
}

function orderItem(it, currency, sections) {
  const out = { orderItemId: it.OrderItemId, quantityOrdered: it.QuantityOrdered };
  const product = { asin: it.ASIN, title: it.Title, sellerSku: it.SellerSKU };
  const line = sum(it, ['ItemPrice']);
  // the unit price only where it is exact: otherwise nexus derives it, as for v0
  if (line != null && it.QuantityOrdered > 0 && line % BigInt(it.QuantityOrdered) === 0n) {
    product.price = { unitPrice: money(line / BigInt(it.QuantityOrdered), currency) };
  }
  out.product = product;
  if (sections.has('PROCEEDS')) {
    const p = itemProceeds(it, currency);
    if (p) out.proceeds = p;
  }
  if (sections.has('FULFILLMENT')) {
    out.fulfillment = { quantityFulfilled: it.QuantityShipped || 0, quantityUnfulfilled: it.QuantityOrdered - (it.QuantityShipped || 0) };
  }
  return out;
}

function address(a) {
  const out = {};
  const keys = [['Name', 'name'], ['AddressLine1', 'addressLine1'], ['AddressLine2', 'addressLine2'], ['City', 'city'],
    ['StateOrRegion', 'stateOrRegion'], ['PostalCode', 'postalCode'], ['CountryCode', 'countryCode'], ['Phone', 'phone']];
  for (const [from, to] of keys) if (a[from] != null) out[to] = a[from];
  if (a.AddressType) out.addressType = String(a.AddressType).toUpperCase();
  return out;
}

// order: the simulator's order ({doc: {order, items}, delivered}); sections: a Set of includedData.
function shape(order, sections, marketplaceName) {
  const o = order.doc.order;
  const items = order.doc.items;
  const currency = (o.OrderTotal && o.OrderTotal.CurrencyCode) ||
    (items.find((it) => it.ItemPrice) || { ItemPrice: {} }).ItemPrice.CurrencyCode || null;
  const out = {
    orderId: o.AmazonOrderId,
    createdTime: o.PurchaseDate,
    lastUpdatedTime: o.LastUpdateDate,
    salesChannel: { channelName: 'AMAZON', marketplaceId: o.MarketplaceId, marketplaceName },
  };
  if (sections.has('BUYER') && o.BuyerInfo) {
    const buyer = {};
    if (o.BuyerInfo.BuyerName != null) buyer.buyerName = o.BuyerInfo.BuyerName;
    // buyerEmail exists for merchant-fulfilled orders only (the model)
    if (o.BuyerInfo.BuyerEmail != null && o.FulfillmentChannel !== 'AFN') buyer.buyerEmail = o.BuyerInfo.BuyerEmail;
    if (Object.keys(buyer).length) out.buyer = buyer;
  }
  if (sections.has('RECIPIENT') && o.ShippingAddress) out.recipient = { deliveryAddress: address(o.ShippingAddress) };
  if (sections.has('PROCEEDS') && o.OrderTotal) {
    const totals = new Map();
    for (const it of items) {
      const p = itemProceeds(it, currency);
      for (const b of p ? p.breakdowns : []) totals.set(b.type, (totals.get(b.type) || 0n) + minor(b.subtotal.amount));
    }
    out.proceeds = {
      grandTotal: { amount: o.OrderTotal.Amount, currencyCode: o.OrderTotal.CurrencyCode },
      breakdowns: [...totals].map(([type, v]) => ({ type, subtotal: money(v, currency) })),
    };
  }
  if (sections.has('FULFILLMENT')) {
    out.fulfillment = {
      fulfillmentStatus: FULFILLMENT_STATUS[o.OrderStatus] || o.OrderStatus,
      fulfilledBy: o.FulfillmentChannel === 'AFN' ? 'AMAZON' : 'MERCHANT',
    };
  }
  out.orderItems = items.map((it) => orderItem(it, currency, sections));
  if (sections.has('PACKAGES') && ['Shipped', 'PartiallyShipped', 'InvoiceUnconfirmed'].includes(o.OrderStatus)) {
    out.packages = [{
      packageReferenceId: `${o.AmazonOrderId}-1`,
      createdTime: o.LastUpdateDate,
      packageStatus: { status: order.delivered ? 'DELIVERED' : 'IN_TRANSIT' },
      carrier: 'UPS',
      trackingNumber: `1Z${o.AmazonOrderId.replace(/-/g, '')}`,
      packageItems: items.filter((it) => (it.QuantityShipped || it.QuantityOrdered) > 0)
        .map((it) => ({ orderItemId: it.OrderItemId, quantity: it.QuantityShipped || it.QuantityOrdered })),
    }];
  }
  return out;
}

// ---------- searchOrders ----------

function csv(ctx, name, allowed, fail) {
  const v = ctx.query.get(name);
  if (v == null) return null;
  const vals = v.split(',');
  for (const s of vals) {
    if (!allowed.includes(s)) fail(400, `${name}: invalid value '${s}'.`, `${name} invalid value ${s}`);
  }
  return vals;
}

function filter(ctx, acc, fail) {
  const lua = mk.timeParam(ctx, 'lastUpdatedAfter', fail, { zOnly: true });
  const lub = mk.timeParam(ctx, 'lastUpdatedBefore', fail, { zOnly: true });
  const ca = mk.timeParam(ctx, 'createdAfter', fail, { zOnly: true });
  const cb = mk.timeParam(ctx, 'createdBefore', fail, { zOnly: true });
  if ((lua == null) === (ca == null)) {
    fail(400, 'Exactly one of createdAfter and lastUpdatedAfter must be provided.', 'not exactly one of lastUpdatedAfter and createdAfter');
  }
  if ((lub != null && lua == null) || (cb != null && ca == null)) fail(400, 'A Before filter needs its After filter.', 'Before without After');
  for (const [n, t] of [['lastUpdatedBefore', lub], ['createdBefore', cb]]) {
    if (t != null && t > ctx.now - 120000) fail(400, `${n} must be at least 2 minutes before the request time.`, `${n} less than 2 minutes ago`);
  }
  const ids = ctx.query.get('marketplaceIds');
  if (!ids) fail(400, "Missing required 'marketplaceIds'.", 'marketplaceIds missing');
  for (const id of ids.split(',')) {
    if (id !== acc.region) fail(400, `The seller is not registered in marketplace '${id}'.`, `marketplaceIds ${id} is not the account's ${acc.region}`);
  }
  return {
    u: lua != null,
    a: lua != null ? lua : ca,
    b: lua != null ? lub : cb,
    s: csv(ctx, 'fulfillmentStatuses', STATUSES, fail),
    by: csv(ctx, 'fulfilledBy', ['MERCHANT', 'AMAZON'], fail),
  };
}

// The filter parameters as sent, for comparing a next page with its first.
function filterKey(ctx) {
  return FILTERS.map((k) => `${k}=${ctx.query.get(k) ?? ''}`).join('&');
}

function makeSearch({ common, fail, apiHeaders, marketplaceName }) {
  return function search(ctx) {
    const acc = common(ctx);
    if (acc.ordersApi !== VERSION) {
      fail(400, 'This seller lists orders with Orders API v0.', 'searchOrders (v2026-01-01) for an account on Orders API v0');
    }
    mk.checkParams(ctx, PARAMS, fail);
    const f = filter(ctx, acc, fail);
    const n = mk.intParam(ctx, 'maxResultsPerPage', { min: 1, max: 100, def: 100 }, fail);
    const sections = new Set(csv(ctx, 'includedData', INCLUDED, fail) || []);
    const key = filterKey(ctx);
    let after = null;
    const pt = ctx.query.get('paginationToken');
    if (pt != null) {
      const t = mk.decodeCursor(pt);
      if (!t || t.acc !== acc.id || t.v !== VERSION || !Array.isArray(t.after)) {
        fail(400, 'Invalid paginationToken.', 'paginationToken not issued for this account');
      }
      if (t.key !== key) {
        fail(400, 'The paginationToken was issued for other filter values.', 'paginationToken with filters other than its first page\'s');
      }
      after = t.after;
    }
    const k = (o) => (f.u ? o.mod : o.created);
    const status = (o) => FULFILLMENT_STATUS[o.doc.order.OrderStatus];
    const by = (o) => (o.doc.order.FulfillmentChannel === 'AFN' ? 'AMAZON' : 'MERCHANT');
    const all = ctx.store.filtered(acc, f.u ? 'modAsc' : 'createdAsc', `v2026 ${key}`, (o) => {
      const t = k(o);
      return t >= f.a && (f.b == null || t <= f.b) && (!f.s || f.s.includes(status(o))) && (!f.by || f.by.includes(by(o)));
    });
    const start = after ? mk.afterKey(all, k, after[0], after[1]) : 0;
    const page = all.slice(start, start + n);
    const last = page[page.length - 1];
    const more = start + n < all.length;
    ctx.served = { page, earlier: all.slice(0, start) };
    const name = `v2026 ${[...sections].sort().join(',')}`;
    const docs = page.map((o) => mk.cached(o, name, () => JSON.stringify(shape(o, sections, marketplaceName(acc)))));
    let tail = ']';
    if (more) tail += `,"pagination":{"nextToken":${JSON.stringify(mk.encodeCursor({ acc: acc.id, v: VERSION, key, after: [k(last), last.id] }))}}`;
    tail += `,"${f.u ? 'lastUpdatedBefore' : 'createdBefore'}":"${time.isoZ(f.b != null ? f.b : ctx.now)}"}`;
    return { status: 200, body: mk.body('{"orders":[', mk.list(docs), tail), headers: apiHeaders(ctx, acc) };
  };
}

module.exports = { VERSION, makeSearch, shape };

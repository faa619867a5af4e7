'use strict';
// Accounts, their orders and the access tokens issued for them.
//
// An order is { id, idx, created, mod, doc, cache }: created and mod are
// epoch ms (mod is the marketplace's last-modified time, the one lists
// filter and sort on), doc is the marketplace's own document(s), and cache
// holds serialized JSON built on first use.  Every change goes through
// touch(), which drops the order's cache and bumps the account's version
// so sorted views are rebuilt.

const crypto = require('node:crypto');

class Store {
  constructor() {
    this.accounts = new Map();
    this.nextNumber = 1;   // never reused, so ids stay unique after DELETE too
    this.tokens = new Map(); // token -> { account, expires }
    this.index = new Map(); // "marketplace/credential key" -> Map(value -> [accounts])
  }

  addAccount(acc) {
    acc.number = this.nextNumber++;
    acc.id = `${acc.marketplace}-${acc.number}`;
    acc.orders = [];
    acc.byId = new Map();
    acc.version = 0;
    acc.views = new Map();
    acc.tokens = new Set();
    this.accounts.set(acc.id, acc);
    this.index.clear();
    return acc;
  }

  removeAll() {
    const n = this.accounts.size;
    this.accounts.clear();
    this.tokens.clear();
    this.index.clear();
    return n;
  }

  get(id) {
    return this.accounts.get(id) || null;
  }

  ofMarketplace(m) {
    const out = [];
    for (const a of this.accounts.values()) if (a.marketplace === m) out.push(a);
    return out;
  }

  // The accounts of a marketplace whose credential key has this value: how
  // every request that carries credentials finds its account, without a
  // scan of all accounts per request.
  byCredential(m, key, value) {
    const k = `${m}/${key}`;
    let idx = this.index.get(k);
    if (!idx) {
      idx = new Map();
      for (const a of this.ofMarketplace(m)) {
        const v = a.credentials[key];
        if (!idx.has(v)) idx.set(v, []);
        idx.get(v).push(a);
      }
      this.index.set(k, idx);
    }
    return idx.get(value) || [];
  }

  addOrder(acc, order) {
    order.cache = null;
    acc.orders.push(order);
    acc.byId.set(order.id, order);
    acc.version++;
  }

  touch(acc, order) {
    order.cache = null;
    acc.version++;
  }

  // Orders sorted for a listing, rebuilt only after a change.
  //   modAsc: (mod, id) ascending; modDesc and createdDesc: newest first.
  view(acc, kind) {
    let v = acc.views.get(kind);
    if (v && v.version === acc.version) return v.orders;
    const orders = acc.orders.slice();
    const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    if (kind === 'modAsc') orders.sort((a, b) => a.mod - b.mod || byId(a, b));
    else if (kind === 'modDesc') orders.sort((a, b) => b.mod - a.mod || byId(b, a));
    else if (kind === 'createdDesc') orders.sort((a, b) => b.created - a.created || byId(b, a));
    else if (kind === 'createdAsc') orders.sort((a, b) => a.created - b.created || byId(a, b));
    else throw new Error(`unknown view ${kind}`);
    v = { version: acc.version, orders, filtered: new Map() };
    acc.views.set(kind, v);
    return orders;
  }

  // A view filtered by f (a predicate) under a key naming the filter; the
  // result is kept until the next change, so walking a 10 000-order list page
  // by page filters it once.
  filtered(acc, kind, key, f) {
    const orders = this.view(acc, kind);
    const v = acc.views.get(kind);
    let r = v.filtered.get(key);
    if (!r) {
      r = orders.filter(f);
      if (v.filtered.size > 32) v.filtered.clear();
      v.filtered.set(key, r);
    }
    return r;
  }

  // ---- tokens ----

  // app: an application token (eBay's client-credentials grant), not a seller's.
  issueToken(acc, lifetimeSec, prefix = '', app = false) {
    const token = prefix + crypto.randomBytes(24).toString('base64url');
    this.tokens.set(token, { account: acc, expires: Date.now() + lifetimeSec * 1000, app });
    acc.tokens.add(token);
    return token;
  }

  // { account, expired, app } for a token issued and not revoked, else null.
  // Expired tokens still name their account, so faults aimed at an account
  // match its requests even after the token ran out.
  lookupToken(token) {
    if (!token) return null;
    const t = this.tokens.get(token);
    if (!t || !this.accounts.has(t.account.id)) return null;
    return { account: t.account, expired: Date.now() >= t.expires, app: t.app };
  }

  expireTokens(acc) {
    let n = 0;
    for (const t of acc.tokens) {
      const e = this.tokens.get(t);
      if (e && e.expires > Date.now()) {
        e.expires = 0;
        n++;
      }
    }
    return n;
  }
}

module.exports = { Store };

'use strict';
// The control API under /_sim/: accounts, their orders, faults, stats.
// JSON in and out; errors are {"error": "..."} with a 4xx status.

const { readBody, rawPath } = require('./http');
const accounts = require('./accounts');

function send(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function parseJson(buf) {
  const text = buf.toString('utf8').trim();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    const e = new Error('body is not JSON');
    e.status = 400;
    throw e;
  }
}

function makeControl({ store, faults, stats, markets }) {
  function account(id) {
    const acc = store.get(decodeURIComponent(id));
    if (!acc) {
      const e = new Error(`no account ${id}`);
      e.status = 404;
      throw e;
    }
    return acc;
  }

  function count(body, acc) {
    const n = body.count == null ? 1 : body.count;
    if (!Number.isInteger(n) || n < 0) {
      const e = new Error('count must be a non-negative integer');
      e.status = 400;
      throw e;
    }
    return acc ? Math.min(n, acc.orders.length) : n;
  }

  const routes = [
    ['GET', /^\/_sim\/health$/, () => [200, { ok: true }]],
    ['POST', /^\/_sim\/accounts$/, (m, body) => {
      const acc = accounts.create(body, markets, store);
      return [200, { account: acc.id, orders: acc.orders.length }];
    }],
    ['GET', /^\/_sim\/accounts$/, () => [200, [...store.accounts.values()].map(accounts.describe)]],
    ['DELETE', /^\/_sim\/accounts$/, () => {
      // faults aimed at the removed accounts would never match again
      faults.list = faults.list.filter((f) => !f.account);
      return [200, { removed: store.removeAll() }];
    }],
    ['POST', /^\/_sim\/reset$/, () => {
      const removed = store.removeAll();
      faults.clear();
      stats.reset();
      return [200, { removed }];
    }],
    ['GET', /^\/_sim\/accounts\/([^/]+)$/, (m) => [200, accounts.describe(account(m[1]))]],
    ['GET', /^\/_sim\/accounts\/([^/]+)\/orders$/, (m) => [200, accounts.summaries(account(m[1]), markets)]],
    ['POST', /^\/_sim\/accounts\/([^/]+)\/update$/, (m, body) => {
      const acc = account(m[1]);
      if (Array.isArray(body.ids)) return [200, { changed: accounts.changeOrders(acc, markets, store, { ids: body.ids.map(String) }) }];
      return [200, { changed: accounts.changeOrders(acc, markets, store, { count: count(body, acc) }) }];
    }],
    ['POST', /^\/_sim\/accounts\/([^/]+)\/create$/, (m, body) => {
      const acc = account(m[1]);
      return [200, { created: accounts.addOrders(acc, markets, store, count(body)) }];
    }],
    ['POST', /^\/_sim\/faults$/, (m, body) => {
      let f;
      try {
        f = faults.parse(body, markets, store);
      } catch (e) {
        e.status = 400;
        throw e;
      }
      if (f.kind === 'expire_token') {
        const accs = f.account ? [store.get(f.account)] : store.ofMarketplace(f.marketplace);
        let n = 0;
        for (const a of accs) n += store.expireTokens(a);
        return [200, { fault: f.id, kind: f.kind, expired: n }];
      }
      faults.add(f);
      return [200, { fault: f.id, kind: f.kind }];
    }],
    // A webhook body signed the way the marketplace signs it, with the
    // simulator's key; key_id makes the header name another key.
    ['POST', /^\/_sim\/webhooks\/sign$/, (m, body) => {
      const mod = markets[body.marketplace];
      if (!mod || !mod.signWebhook) throw Object.assign(new Error('marketplace must be ebay or bol'), { status: 400 });
      if (typeof body.body !== 'string') throw Object.assign(new Error('body must be the webhook body as a string'), { status: 400 });
      if (body.key_id != null && (typeof body.key_id !== 'string' || !body.key_id)) {
        throw Object.assign(new Error('key_id must be a non-empty string'), { status: 400 });
      }
      return [200, mod.signWebhook(body.body, body.key_id)];
    }],
    ['GET', /^\/_sim\/faults$/, () => [200, faults.list]],
    ['DELETE', /^\/_sim\/faults$/, () => [200, { removed: faults.clear() }]],
    ['GET', /^\/_sim\/stats$/, () => [200, stats.toJSON()]],
    ['POST', /^\/_sim\/stats\/reset$/, () => {
      stats.reset();
      return [200, { ok: true }];
    }],
  ];

  return async function handle(req, res) {
    const path = rawPath(req.url);
    try {
      const body = parseJson(await readBody(req));
      let known = false;
      for (const [method, re, fn] of routes) {
        const m = re.exec(path);
        if (!m) continue;
        known = true;
        if (method !== req.method) continue;
        const [status, out] = fn(m, body);
        send(res, status, out);
        return;
      }
      send(res, known ? 405 : 404, { error: `${known ? 'method not allowed' : 'no such control endpoint'}: ${req.method} ${path}` });
    } catch (e) {
      send(res, e.status || 500, { error: e.message });
      if (!e.status) console.error(e);
    }
  };
}

module.exports = { makeControl };

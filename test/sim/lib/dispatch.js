'use strict';
// Marketplace requests: route to the marketplace module, apply faults and
// latency, count everything in the stats, and send the answer.

const accounts = require('./accounts');
const { Reject, readBody, rawPath, rawQuery, send, sendTruncated } = require('./http');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function notFound(m, reason) {
  const e = m.error(404, reason);
  return new Reject(404, e.body, reason, e.headers);
}

function makeDispatch({ store, faults, stats, markets, opts }) {
  const held = new Set(); // responses a timeout fault never answers

  async function dispatch(req, res, name, mod) {
    const url = req.url;
    const p = rawPath(url);
    const sub = p.slice(name.length + 1) || '/';
    const host = req.headers.host || `127.0.0.1:${req.socket.localPort}`;
    let body = '';
    try {
      body = (await readBody(req)).toString('utf8');
    } catch {
      send(res, { status: 413, body: '', headers: {} });
      return;
    }
    const match = mod.routes.map((r) => [r, r.re.exec(sub)]).filter(([, m]) => m);
    const hit = match.find(([r]) => r.method === req.method);
    const route = hit ? hit[0] : null;
    const ctx = {
      m: name,
      method: req.method,
      url,
      path: sub,
      query: new URLSearchParams(rawQuery(url)),
      headers: req.headers,
      body,
      host,
      base: `http://${host}/${name}`,
      fullUrl: `http://${host}${url}`,
      now: Date.now(),
      store,
      stats,
      opts,
      served: null,
      issueToken(acc, lifetime, prefix, app = false) {
        const life = acc.tokenLifetime || lifetime;
        return { token: store.issueToken(acc, life, prefix, app), lifetime: life };
      },
    };
    try {
      ctx.account = mod.identify(ctx, route);
    } catch {
      ctx.account = null;
    }
    stats.count(name, route ? route.name : 'unknown');
    if (route && route.kind === 'token') stats.tokenRequest(ctx.account ? ctx.account.id : 'unknown');
    if (route && route.kind === 'keys') stats.keyRequest(name);

    const fault = faults.take(name, ctx.account, url);
    if (fault) stats.fault(fault.kind);
    const latency = ctx.account && ctx.account.latencyMs != null ? ctx.account.latencyMs : opts.latencyMs;

    if (fault && fault.kind === 'timeout') {
      // accept and never answer; the client gives up and closes
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (fault && fault.kind === 'slow') await sleep(fault.delay_ms);

    let out;
    if (fault && ['429', '500', '503'].includes(fault.kind)) {
      const status = Number(fault.kind);
      const msg = { 429: 'Rate limit exceeded, please retry later.', 500: 'Internal server error.', 503: 'Service unavailable.' }[status];
      const e = mod.error(status, msg);
      out = { status, body: e.body, headers: { ...e.headers, ...(status === 429 ? mod.throttleHeaders(fault, Date.now()) : {}) } };
    } else if (fault && fault.kind === 'malformed') {
      out = { status: 200, body: '<html><body><h1>502 Bad Gateway</h1></body></html>\n{"orders": [', headers: { 'Content-Type': mod.contentType } };
    } else {
      try {
        if (!route) {
          throw notFound(mod, match.length ? `method ${req.method} not allowed on ${sub}` : `no such endpoint: ${req.method} ${sub}`);
        }
        out = route.fn(ctx, hit[1]);
      } catch (e) {
        if (!(e instanceof Reject)) {
          console.error(`sim: ${req.method} ${url}:`, e);
          const err = mod.error(500, 'simulator error');
          e.status = 500;
          e.reason = `simulator error: ${e.message}`;
          e.headers = err.headers;
          e.body = err.body;
        }
        stats.reject({
          marketplace: name, method: req.method, path: p, status: e.status, reason: e.reason,
          account: ctx.account ? ctx.account.id : null,
        });
        // one line per refusal: the first thing to read when a sync test fails
        console.error(`sim: refused ${e.status} ${req.method} ${p}: ${e.reason}`);
        out = { status: e.status, body: e.body, headers: e.headers };
      }
      if (ctx.served && out.status === 200) {
        const change = faults.takeChange(name, ctx.account, url);
        if (change) {
          stats.fault(change.kind);
          // the orders of this page first, then earlier pages of the walk
          const pick = ctx.served.page.concat(ctx.served.earlier.slice().reverse()).slice(0, change.count);
          accounts.changeOrders(ctx.account, markets, store, { orders: pick });
        }
      }
    }
    if (latency > 0) await sleep(latency);
    if (fault && fault.kind === 'truncate') sendTruncated(res, out);
    else send(res, out);
  }

  // On shutdown: drop the requests a timeout fault is holding.
  dispatch.abandon = () => {
    for (const res of held) res.destroy();
  };
  return dispatch;
}

module.exports = { makeDispatch };

#!/usr/bin/env node
'use strict';
// bench/sync/accounts.js: the simulator accounts of the sync benchmark
// (setup, not timed).
//
//   node accounts.js PORT CONNECTIONS ORDERS MARKETS OUT_DIR
//
// Creates CONNECTIONS lean accounts of ORDERS orders each on the simulator
// at 127.0.0.1:PORT, connection n (1-based) on MARKETS[(n - 1) % len]
// (MARKETS comma-separated), with the credentials of
// test/integration/lib/sync.sh (creds_for), orders created over the last
// days (all inside nexus.sync_initial_days), then asks the simulator for
// every account's orders.  Writes, tab-separated, no header:
//   OUT_DIR/connections.tsv  n, marketplace, account name, sim account id,
//                            credentials JSON, config JSON, region (or \N)
//   OUT_DIR/expected.tsv     n, external_order_id, updated_at, items
// Node standard library only; two requests open at once (the simulator is
// one thread: more would not make it faster), each on a new connection (a
// reused keep-alive socket once came back reset).

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const [port, count, orders, marketsArg, outDir] = process.argv.slice(2);
const N = Number(count);
const ORDERS = Number(orders);
const MARKETS = String(marketsArg).split(',').filter(Boolean);
if (!port || !(N > 0) || !(ORDERS >= 0) || MARKETS.length === 0 || !outDir) {
  console.error('usage: accounts.js PORT CONNECTIONS ORDERS MARKETS OUT_DIR');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: false, maxSockets: 2 });

function call(method, p, body) {
  return new Promise((resolve, reject) => {
    const data = body == null ? null : Buffer.from(JSON.stringify(body));
    const req = http.request({
      host: '127.0.0.1', port: Number(port), path: p, method, agent,
      headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
      timeout: 60000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`${method} ${p}: ${res.statusCode} ${text.slice(0, 300)}`));
        try { resolve(JSON.parse(text)); } catch (e) { reject(new Error(`${method} ${p}: not JSON`)); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: timeout`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// As test/integration/lib/sync.sh creds_for / region_for.
function creds(m, n) {
  switch (m) {
    case 'amazon': return { lwa_client_id: `amzn1.app.${n}`, lwa_client_secret: `amzn-secret-${n}`, refresh_token: `Atzr|refresh-${n}` };
    case 'ebay': return { client_id: `ebay-${n}`, client_secret: `ebay-secret-${n}`, refresh_token: `v^1.1#r-${n}` };
    case 'bol': return { client_id: `bol-${n}`, client_secret: `bol-secret-${n}` };
    case 'kaufland': return { client_key: `kl-key-${n}`, secret_key: `kl-secret-${n}` };
    case 'shopify': return { shop_domain: `sim-${n}.myshopify.com`, access_token: `shpat_${n}` };
    case 'zalando': return { client_id: `zal-${n}`, client_secret: `zal-secret-${n}`, merchant_id: `0e6b7c2a-1f4d-4b8e-9c3a-${String(n).padStart(12, '0')}` };
    case 'walmart': return { client_id: `wm-${n}`, client_secret: `wm-secret-${n}` };
    default: throw new Error(`unknown marketplace ${m}`);
  }
}
function region(m) {
  return { amazon: 'ATVPDKIKX0DER', ebay: '77', kaufland: 'de' }[m] || null;
}

// Orders are created over at most the last 9 days (step 300 s, shorter for
// big accounts), so every one lies in the first sync's window (30 days).
const step = Math.max(1, Math.min(300, Math.floor((9 * 86400) / Math.max(ORDERS, 1))));
const start = new Date(Date.now() - 10 * 86400 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const tsv = (v) => (v == null ? '\\N' : String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n'));

async function one(n, conns, expected) {
  const m = MARKETS[(n - 1) % MARKETS.length];
  const c = creds(m, n);
  const r = region(m);
  const made = await call('POST', '/_sim/accounts', {
    marketplace: m, credentials: c, region: r, orders: ORDERS, seed: `bench-${m}-${n}`,
    start, step_seconds: step, lean: true,
  });
  if (made.orders !== ORDERS) throw new Error(`account ${n}: ${made.orders} orders, wanted ${ORDERS}`);
  const base = `http://127.0.0.1:${port}/${m}`;
  const cfg = { api_base_url: base, auth_base_url: base, page_size: 100 };
  conns[n] = [n, m, `bench ${n}`, made.account, JSON.stringify(c), JSON.stringify(cfg), r].map(tsv).join('\t');
  const list = await call('GET', `/_sim/accounts/${encodeURIComponent(made.account)}/orders`);
  if (list.length !== ORDERS) throw new Error(`account ${n}: the simulator lists ${list.length} orders`);
  expected[n] = list.map((o) => [n, o.external_order_id, o.updated_at, o.items].map(tsv).join('\t')).join('\n');
}

async function main() {
  const conns = new Array(N + 1);
  const expected = new Array(N + 1);
  let next = 1;
  const lane = async () => {
    while (next <= N) {
      const n = next++;
      await one(n, conns, expected);
    }
  };
  await Promise.all([lane(), lane()]);
  fs.writeFileSync(path.join(outDir, 'connections.tsv'), conns.slice(1).join('\n') + '\n');
  const out = fs.openSync(path.join(outDir, 'expected.tsv'), 'w');
  for (let n = 1; n <= N; n++) if (expected[n]) fs.writeSync(out, expected[n] + '\n');
  fs.closeSync(out);
  agent.destroy();
}

main().catch((e) => {
  console.error(`accounts.js: ${e.message}`);
  process.exit(1);
});

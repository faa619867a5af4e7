#!/usr/bin/env node
'use strict';
// JSON chores for selftest.sh, so that the self-test needs nothing beyond
// bash, curl, openssl and the node that runs the simulator anyway.
//
//   get FILE PATH            value at a dotted path (a.b.0.c); strings raw, other values as JSON,
//                            nothing when absent
//   ids MARKETPLACE FILE     the order ids of a list page, one a line
//   summary FILE             "id updated_at items" per order of GET /_sim/accounts/<id>/orders
//   canon FILE               "id updated_at items" per line of canonical JSON (parse_page --order)
//   amazon-split PAGE DIR    each order of a getOrders page into DIR/<id>.order.json; prints the ids
//   amazon-v2026-split PAGE DIR  each order of a searchOrders page into DIR/<id>.order.json; prints the ids
//   amazon-totals SIM CANON  total_amount and subtotal of the account's orders against nexus's
//   amazon-merge DIR ID      DIR/ID.order.json + DIR/ID.items.<n>.json -> DIR/ID.merged.json
//                            (the orderItems pages' OrderItems as the order's OrderItems)
//   is-json FILE             exit 0 when FILE holds one JSON document
//   headers FILE             a curl -D header dump (its last response) as a JSON object of
//                            lower-case names, the shape parse_page takes

const fs = require('node:fs');
const path = require('node:path');

const [cmd, ...args] = process.argv.slice(2);
const read = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));

function at(v, p) {
  for (const k of p.split('.').filter(Boolean)) {
    if (v == null) return undefined;
    v = v[k];
  }
  return v;
}

const IDS = {
  amazon: (d) => d.payload.Orders.map((o) => o.AmazonOrderId),
  ebay: (d) => d.orders.map((o) => o.orderId),
  bol: (d) => (d.orders || []).map((o) => o.orderId),
  kaufland: (d) => d.data.map((o) => o.id_order),
  shopify: (d) => d.orders.map((o) => String(o.id)),
  zalando: (d) => d.data.map((o) => o.attributes.order_id),
  walmart: (d) => d.list.elements.order.map((o) => o.purchaseOrderId),
};

switch (cmd) {
  case 'get': {
    const v = at(read(args[0]), args[1] || '');
    if (v !== undefined && v !== null) console.log(typeof v === 'string' ? v : JSON.stringify(v));
    break;
  }
  case 'ids':
    for (const id of IDS[args[0]](read(args[1]))) console.log(id);
    break;
  case 'summary':
    for (const o of read(args[0])) console.log(`${o.external_order_id} ${o.updated_at} ${o.items}`);
    break;
  case 'canon':
    for (const line of fs.readFileSync(args[0], 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const o = JSON.parse(line);
      console.log(`${o.external_order_id} ${o.updated_at} ${o.items.length}`);
    }
    break;
  case 'amazon-split':
    for (const o of read(args[0]).payload.Orders) {
      fs.writeFileSync(path.join(args[1], `${o.AmazonOrderId}.order.json`), JSON.stringify(o));
      console.log(o.AmazonOrderId);
    }
    break;
  case 'amazon-v2026-split':
    for (const o of read(args[0]).orders) {
      fs.writeFileSync(path.join(args[1], `${o.orderId}.order.json`), JSON.stringify(o));
      console.log(o.orderId);
    }
    break;
  case 'amazon-totals': {
    // SIM (the account's orders) against CANON (canonical orders, one a line):
    // total_amount and subtotal as numbers, null where either says null
    const canon = new Map();
    for (const line of fs.readFileSync(args[1], 'utf8').split('\n')) {
      if (line.trim()) canon.set(JSON.parse(line).external_order_id, JSON.parse(line));
    }
    const num = (v) => (v == null ? null : Number(v));
    let bad = 0;
    for (const o of read(args[0])) {
      const c = canon.get(o.external_order_id);
      for (const k of ['total_amount', 'subtotal']) {
        if (!c || num(c[k]) !== num(o[k])) {
          console.log(`${o.external_order_id} ${k}: nexus ${c ? c[k] : 'no order'}, simulator ${o[k]}`);
          bad++;
        }
      }
    }
    process.exit(bad ? 1 : 0);
  }
  case 'amazon-merge': {
    const [dir, id] = args;
    const order = read(path.join(dir, `${id}.order.json`));
    const page = (f) => {
      const m = f.startsWith(`${id}.items.`) && /\.items\.(\d+)\.json$/.exec(f);
      return m ? Number(m[1]) : -1;
    };
    const pages = fs.readdirSync(dir).filter((f) => page(f) >= 0).sort((a, b) => page(a) - page(b));
    order.OrderItems = [];
    for (const f of pages) order.OrderItems.push(...read(path.join(dir, f)).payload.OrderItems);
    fs.writeFileSync(path.join(dir, `${id}.merged.json`), JSON.stringify(order));
    break;
  }
  case 'is-json':
    try {
      JSON.parse(fs.readFileSync(args[0], 'utf8'));
    } catch {
      process.exit(1);
    }
    break;
  case 'headers': {
    const blocks = fs.readFileSync(args[0], 'utf8').split(/\r?\n\r?\n/).filter((b) => b.trim());
    const out = {};
    for (const line of (blocks[blocks.length - 1] || '').split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i > 0 && !line.startsWith('HTTP/')) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    console.log(JSON.stringify(out));
    break;
  }
  default:
    console.error(`jsontool: unknown command ${cmd}`);
    process.exit(2);
}

#!/usr/bin/env node
'use strict';
// Local marketplace simulator for nexus's sync tests and benchmarks.
//
//   node test/sim/sim.js --port 0 --port-file FILE [--fixtures DIR] [--latency-ms N]
//
// One HTTP/1.1 server on 127.0.0.1; each marketplace lives under its own
// path prefix (/amazon, /ebay, ...), which a test uses as both api_base and
// auth_base.  /_sim/ is the control API.  See test/sim/README.md.

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const { Store } = require('./lib/store');
const { Faults } = require('./lib/faults');
const { Stats } = require('./lib/stats');
const { makeControl } = require('./lib/control');
const { makeDispatch } = require('./lib/dispatch');
const { rawPath, send } = require('./lib/http');

const MARKETS = {};
for (const m of ['amazon', 'ebay', 'bol', 'kaufland', 'shopify', 'zalando', 'walmart']) {
  MARKETS[m] = require(`./lib/${m}`);
}

function usage(msg) {
  if (msg) console.error(`sim: ${msg}`);
  console.error('usage: sim.js --port N --port-file FILE [--fixtures DIR] [--latency-ms N] [--amazon-rate-limit R]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    port: 0,
    portFile: null,
    // precedence: --fixtures, then NEXUS_FIXTURES, then the sibling checkout
    fixtures: process.env.NEXUS_FIXTURES || path.resolve(__dirname, '../../../shared/fixtures'),
    latencyMs: 0,
    amazonRateLimit: '20.0',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') o.port = Number(val());
    else if (a === '--port-file') o.portFile = val();
    else if (a === '--fixtures') o.fixtures = path.resolve(val());
    else if (a === '--latency-ms') o.latencyMs = Number(val());
    else if (a === '--amazon-rate-limit') o.amazonRateLimit = val();
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) usage('--port must be 0..65535');
  if (!(o.latencyMs >= 0)) usage('--latency-ms must be a non-negative number');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
for (const m of Object.values(MARKETS)) {
  try {
    m.load(opts.fixtures);
  } catch (e) {
    console.error(`sim: cannot load the ${m.name} fixtures from ${opts.fixtures}: ${e.message}`);
    process.exit(1);
  }
}

const store = new Store();
const faults = new Faults();
const stats = new Stats();
const control = makeControl({ store, faults, stats, markets: MARKETS });
const dispatch = makeDispatch({ store, faults, stats, markets: MARKETS, opts });

async function onRequest(req, res) {
  const url = req.url || '/';
  if (url === '/_sim' || url.startsWith('/_sim/') || url.startsWith('/_sim?')) {
    await control(req, res);
    return;
  }
  stats.begin();
  res.on('close', () => stats.end());
  const name = rawPath(url).split('/')[1] || '';
  const mod = Object.prototype.hasOwnProperty.call(MARKETS, name) ? MARKETS[name] : null;
  if (!mod) {
    stats.count(name || '-', 'unknown');
    stats.reject({ marketplace: name, method: req.method, path: rawPath(url), status: 404, reason: 'unknown marketplace prefix' });
    send(res, { status: 404, body: JSON.stringify({ error: `no marketplace /${name}` }), headers: { 'Content-Type': 'application/json' } });
    return;
  }
  await dispatch(req, res, name, mod);
}

const server = http.createServer((req, res) => {
  onRequest(req, res).catch((e) => {
    console.error('sim:', e);
    if (!res.headersSent) send(res, { status: 500, body: '', headers: {} });
  });
});
// Keep-alive for benchmark clients, and no server-side request timeout: a
// "timeout" fault must stay open until the client gives up.
server.keepAliveTimeout = 65000;
server.headersTimeout = 66000;
server.requestTimeout = 0;
server.timeout = 0;
server.on('clientError', (err, socket) => socket.destroy());

server.listen(opts.port, '127.0.0.1', () => {
  const port = server.address().port;
  if (opts.portFile) {
    const tmp = `${opts.portFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${port}\n`);
    fs.renameSync(tmp, opts.portFile);
  }
  console.log(`sim listening on 127.0.0.1:${port}`);
});
server.on('error', (e) => {
  console.error(`sim: ${e.message}`);
  process.exit(1);
});

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  const port = server.address() && server.address().port;
  // only remove the port file if it still names this process's port
  try {
    if (opts.portFile && fs.readFileSync(opts.portFile, 'utf8').trim() === String(port)) fs.unlinkSync(opts.portFile);
  } catch {
    // already gone
  }
  dispatch.abandon();
  server.close(() => process.exit(0));
  if (server.closeAllConnections) server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
  console.log(`sim stopping (${signal})`);
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

'use strict';
// Checks and answers every marketplace module needs.  Each takes the
// marketplace's fail(status, message, reason) so that a refusal comes in
// that marketplace's own error shape.

const fs = require('node:fs');
const { Reject, parseBasic, acceptIncludes, mediaType } = require('./http');
const time = require('./time');

// Parameters the marketplace does not know are refused: real APIs often
// ignore them, which is how a misspelt filter silently turns into a full
// listing; here the mistake shows up at once, with its reason in the stats.
function checkParams(ctx, allowed, fail) {
  const seen = new Set();
  for (const k of ctx.query.keys()) {
    if (!allowed.includes(k)) fail(400, `unknown query parameter '${k}'`, `unknown parameter ${k}`);
    if (seen.has(k)) fail(400, `query parameter '${k}' given more than once`, `repeated parameter ${k}`);
    seen.add(k);
  }
}

function intParam(ctx, name, { min, max, def }, fail) {
  const v = ctx.query.get(name);
  if (v == null) return def;
  if (!/^\d+$/.test(v)) fail(400, `${name}: '${v}' is not a non-negative integer`, `${name} not an integer`);
  const n = Number(v);
  if (n < min || (max != null && n > max)) {
    fail(400, `${name}: ${n} is out of range (${min}..${max ?? ''})`, `${name} ${n} out of range ${min}..${max ?? ''}`);
  }
  return n;
}

// An ISO 8601 time parameter; zOnly refuses any offset but Z (Amazon).
function timeParam(ctx, name, fail, { zOnly = false } = {}) {
  const v = ctx.query.get(name);
  if (v == null) return null;
  const t = time.parseIso(v);
  if (Number.isNaN(t)) {
    fail(400, `${name}: '${v}' is not an ISO 8601 date-time with a time zone`, `${name} bad time format`);
  }
  if (zOnly && time.isoZone(v) !== 'Z') {
    fail(400, `${name}: '${v}' must be in UTC ('Z'); offsets are not accepted`, `${name} has an offset, not Z`);
  }
  return t;
}

function requireUserAgent(ctx, fail, status = 400) {
  if (!ctx.headers['user-agent']) fail(status, 'a User-Agent header is required', 'User-Agent missing');
}

function requireAccept(ctx, type, fail, status = 406) {
  if (!acceptIncludes(ctx.headers.accept, type)) {
    fail(status, `Accept must be ${type} (got '${ctx.headers.accept || ''}')`, `Accept not ${type}`);
  }
}

// An OAuth token endpoint's refusal: {"error": ..., "error_description": ...}.
function oauthFail(status, error, description, reason) {
  throw new Reject(status, { error, error_description: description }, reason || `${error}: ${description}`,
    { 'Content-Type': 'application/json' });
}

function requireForm(ctx) {
  if (mediaType(ctx.headers['content-type']) !== 'application/x-www-form-urlencoded') {
    oauthFail(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded',
      'token request Content-Type not form-urlencoded');
  }
  return new URLSearchParams(ctx.body);
}

// The account whose client id and secret are in the Basic header, or an
// invalid_client refusal.  idKey/secretKey name the credential fields.
function basicClient(ctx, idKey, secretKey) {
  const b = parseBasic(ctx.headers.authorization);
  if (!b) oauthFail(401, 'invalid_client', 'client authentication failed (no Basic credentials)', 'token request without Basic auth');
  const accounts = ctx.store.byCredential(ctx.m, idKey, b.user).filter((a) => a.credentials[secretKey] === b.pass);
  if (!accounts.length) oauthFail(401, 'invalid_client', 'client authentication failed', 'unknown client or wrong secret');
  return accounts;
}

// Lenient identification for fault matching and stats: the account a
// request names, without judging whether the request is acceptable.
function accountByBasic(ctx, idKey) {
  const b = parseBasic(ctx.headers.authorization);
  if (!b) return null;
  return ctx.store.byCredential(ctx.m, idKey, b.user)[0] || null;
}

function accountByToken(ctx, token) {
  const t = ctx.store.lookupToken(token);
  return t && t.account.marketplace === ctx.m ? t.account : null;
}

// The account of an access token, refusing unknown and expired ones.
function authToken(ctx, token, fail, status = 401) {
  if (!token) fail(status, 'no access token', 'access token missing');
  const t = ctx.store.lookupToken(token);
  if (!t || t.account.marketplace !== ctx.m) fail(status, 'invalid access token', 'unknown access token');
  if (t.expired) fail(status, 'the access token has expired', 'expired access token', { expired: true });
  return t.account;
}

// A fixed one-minute window per account and endpoint, for the budget
// headers (X-RateLimit-*, X-Shopify-Shop-Api-Call-Limit).  The window never
// reports an empty budget by itself: throttling comes from faults only, so
// that tests decide when a client must wait.
function budget(acc, name, limit, now) {
  if (!acc) return { used: 1, remaining: limit - 1, reset: 60 };
  acc.budgets = acc.budgets || new Map();
  let b = acc.budgets.get(name);
  const start = Math.floor(now / 60000) * 60000;
  if (!b || b.start !== start) {
    b = { start, used: 0 };
    acc.budgets.set(name, b);
  }
  b.used++;
  return {
    used: Math.min(b.used, limit - 1),
    remaining: Math.max(1, limit - b.used),
    reset: Math.max(1, Math.ceil((start + 60000 - now) / 1000)),
  };
}

function decodeSegment(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

module.exports = {
  checkParams, intParam, timeParam, requireUserAgent, requireAccept, oauthFail, requireForm,
  basicClient, accountByBasic, accountByToken, authToken, budget, decodeSegment,
};

// fail(status, message, reason, extra) for a marketplace whose error(status,
// message, extra) gives { body, headers }.
function makeFail(error) {
  return (status, message, reason, extra) => {
    const e = error(status, message, extra);
    throw new Reject(status, e.body, reason || message, e.headers);
  };
}

// The same checks failing the OAuth way, for token endpoints.
function oauthRequestFail(status, message, reason) {
  oauthFail(status === 406 ? 406 : 400, 'invalid_request', message, reason);
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// Keyset position: index of the first order after (t, id) in a list sorted
// ascending by (key(o), id).
function afterKey(list, key, t, id) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const k = key(list[mid]);
    if (k < t || (k === t && list[mid].id <= id)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodeCursor(obj) {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

function decodeCursor(s) {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(s)) return null;
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}

// The order's cached serialization under name, built by make (a JSON
// string, or an array of them) on first use and kept as UTF-8 Buffers:
// a page is then a concatenation of bytes, with no re-encoding per request.
function cached(order, name, make) {
  const c = order.cache || (order.cache = {});
  let v = c[name];
  if (v === undefined) {
    const s = make();
    v = Array.isArray(s) ? s.map((x) => Buffer.from(x)) : Buffer.from(s);
    c[name] = v;
  }
  return v;
}

const COMMA = Buffer.from(',');

// Buffers joined by commas, as the pieces of a JSON array's inside.
function list(bufs) {
  const out = [];
  for (let i = 0; i < bufs.length; i++) {
    if (i) out.push(COMMA);
    out.push(bufs[i]);
  }
  return out;
}

// A response body from strings, Buffers and list()s.
function body(...parts) {
  return parts.flat();
}

Object.assign(module.exports, {
  makeFail, oauthRequestFail, readJson, afterKey, encodeCursor, decodeCursor, cached, list, body,
});

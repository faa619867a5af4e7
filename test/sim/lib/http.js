'use strict';
// Small HTTP helpers shared by the marketplaces and the control API.

// A request the marketplace refuses.  Thrown by a handler; the server
// answers with status/body/headers and records reason in the stats.
class Reject extends Error {
  constructor(status, body, reason, headers = {}) {
    super(reason);
    this.status = status;
    this.body = typeof body === 'string' ? body : JSON.stringify(body);
    this.reason = reason;
    this.headers = headers;
  }
}

function reply(status, body, headers = {}) {
  return { status, body, headers };
}

function json(status, obj, headers = {}) {
  return reply(status, typeof obj === 'string' ? obj : JSON.stringify(obj), headers);
}

function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// Does an Accept header list this media type (parameters and case aside)?
function acceptIncludes(header, type) {
  if (!header) return false;
  const want = type.toLowerCase();
  return header.split(',').some((p) => p.split(';')[0].trim().toLowerCase() === want);
}

function mediaType(header) {
  return (header || '').split(';')[0].trim().toLowerCase();
}

// "Basic base64(user:password)" -> { user, pass }, or null.
function parseBasic(header) {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header || '');
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) return null;
  return { user: text.slice(0, i), pass: text.slice(i + 1) };
}

function bearer(header) {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header || '');
  return m ? m[1] : null;
}

// The query of a raw request target, as given (no decoding).
function rawQuery(url) {
  const i = url.indexOf('?');
  return i < 0 ? '' : url.slice(i + 1);
}

function rawPath(url) {
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}

// Percent-encode a query value the way the marketplaces write their links:
// like encodeURIComponent, but ':' stays (the doc: it is allowed in a query).
function encodeQueryValue(s) {
  return encodeURIComponent(s).replace(/%3A/gi, ':');
}

// A body is a string, a Buffer, or an array of both (a page assembled from
// cached orders).
function bytes(body) {
  if (Buffer.isBuffer(body)) return body;
  if (Array.isArray(body)) return Buffer.concat(body.map((x) => (Buffer.isBuffer(x) ? x : Buffer.from(x))));
  return Buffer.from(body || '');
}

function send(res, out) {
  if (res.destroyed || res.writableEnded) return;
  const body = bytes(out.body);
  res.writeHead(out.status, { ...out.headers, 'Content-Length': body.length });
  res.end(body);
}

// The response a client reads as cut off: a Content-Length past the body,
// then the connection closes.
function sendTruncated(res, out) {
  if (res.destroyed || res.writableEnded) return;
  const body = bytes(out.body);
  res.writeHead(out.status, { ...out.headers, 'Content-Length': body.length + 128 });
  res.write(body, () => res.socket && res.socket.destroy());
}

module.exports = {
  Reject, reply, json, readBody, acceptIncludes, mediaType, parseBasic, bearer, rawQuery,
  rawPath, encodeQueryValue, send, sendTruncated,
};

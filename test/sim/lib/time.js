'use strict';
// Time parsing and formatting in the exact spellings the marketplaces use.
// Everything is epoch milliseconds inside the simulator; the formats only
// matter at the edges (documents served, query parameters checked).

function pad(n, w = 2) {
  return String(n).padStart(w, '0');
}

// EU summer time (Amsterdam, Berlin): last Sunday of March 01:00 UTC until
// the last Sunday of October 01:00 UTC.  bol and the fixture Shopify shop
// write local offsets, and an order crossing the change must get the right
// one or the adapter's UTC conversion would be an hour off.
const dstCache = new Map();
function lastSunday0100Utc(year, month) {
  const d = new Date(Date.UTC(year, month + 1, 0, 1));
  d.setUTCDate(d.getUTCDate() - d.getUTCDay());
  return d.getTime();
}
function euOffsetMinutes(ms) {
  const y = new Date(ms).getUTCFullYear();
  let r = dstCache.get(y);
  if (!r) {
    r = [lastSunday0100Utc(y, 2), lastSunday0100Utc(y, 9)];
    dstCache.set(y, r);
  }
  return ms >= r[0] && ms < r[1] ? 120 : 60;
}

function fields(ms) {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

function fraction(ms, digits) {
  if (!digits) return '';
  const f = pad(((ms % 1000) + 1000) % 1000, 3);
  return '.' + (digits <= 3 ? f.slice(0, digits) : f + '0'.repeat(digits - 3));
}

// "2025-03-10T08:12:45Z" (digits = 0) or "2025-03-10T08:12:45.000Z" (3).
function isoZ(ms, digits = 0) {
  return fields(ms) + fraction(ms, digits) + 'Z';
}

// Local EU time with its offset: "2025-03-12T10:41:07+01:00".
function isoEU(ms, digits = 0) {
  const off = euOffsetMinutes(ms);
  const local = ms + off * 60000;
  return fields(local) + fraction(local, digits) + `+${pad(off / 60)}:00`;
}

function isoDate(ms) {
  return fields(ms).slice(0, 10);
}

// Shopify's page_info keeps the sort value as "2025-03-10 14:44:13.000000".
function shopifyCursorTime(ms) {
  return fields(ms).replace('T', ' ') + fraction(ms, 6);
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;

// Strict ISO 8601 date-time with a zone; NaN for anything else (a missing
// zone, an impossible date, the space a raw '+' decodes to).
function parseIso(s) {
  if (typeof s !== 'string') return NaN;
  const m = ISO_RE.exec(s);
  if (!m) return NaN;
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return NaN;
  let ms = Date.UTC(y, mo - 1, d, h, mi, se);
  if (new Date(ms).getUTCDate() !== d) return NaN;
  if (m[8]) ms += Number(m[8].slice(0, 3).padEnd(3, '0'));
  if (m[9] !== 'Z') {
    const z = m[9].replace(':', '');
    const off = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * (z[0] === '-' ? -1 : 1);
    ms -= off * 60000;
  }
  return ms;
}

// The zone part of a string parseIso accepted: 'Z' or the offset.
function isoZone(s) {
  const m = ISO_RE.exec(s);
  return m ? m[9] : null;
}

// "YYYY-MM-DD" as the UTC midnight it names; NaN when it is not a date.
function parseDate(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '');
  if (!m) return NaN;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).getUTCDate() === Number(m[3]) ? ms : NaN;
}

function floorSec(ms) {
  return Math.floor(ms / 1000) * 1000;
}

module.exports = {
  pad, isoZ, isoEU, isoDate, shopifyCursorTime, parseIso, isoZone, parseDate, floorSec,
  euOffsetMinutes,
};

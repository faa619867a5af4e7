'use strict';
// Orders from fixture templates.  A template is a fixture order (plus the
// parts served separately: Amazon's items, Zalando's included resources),
// with every timestamp in it located once.  A new order is a clone whose
// timestamps are moved so that the template's creation maps to the new
// order's creation and the template's last change to the new last change;
// whatever lay between stays between, so the order still reads as one
// story (paid before shipped), and nothing is later than its last change
// except estimates that were in the template's future too.

const crypto = require('node:crypto');
const time = require('./time');
const { rng } = require('./rand');

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
// Walmart writes times as epoch milliseconds under keys like these.
const EPOCH_KEY_RE = /(Date|DateTime|Time)$/;

function findTimeSlots(doc) {
  const slots = [];
  const walk = (v, path) => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, path.concat(i)));
    } else if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) walk(v[k], path.concat(k));
    } else if (typeof v === 'string') {
      if (ISO_RE.test(v)) {
        const frac = /\.(\d+)/.exec(v);
        slots.push({ path, kind: 'iso', t: time.parseIso(v), digits: frac ? frac[1].length : 0, local: !v.endsWith('Z') });
      } else if (DATE_RE.test(v)) {
        slots.push({ path, kind: 'date', t: time.parseDate(v) });
      }
    } else if (typeof v === 'number' && v > 1e12 && v < 1e13 && EPOCH_KEY_RE.test(String(path[path.length - 1]))) {
      slots.push({ path, kind: 'epoch', t: v });
    }
  };
  walk(doc, []);
  return slots;
}

function setPath(obj, path, value) {
  let o = obj;
  for (let i = 0; i < path.length - 1; i++) o = o[path[i]];
  o[path[path.length - 1]] = value;
}

function formatSlot(slot, t) {
  if (slot.kind === 'epoch') return t;
  if (slot.kind === 'date') return time.isoDate(t);
  return slot.local ? time.isoEU(t, slot.digits) : time.isoZ(t, slot.digits);
}

// tplCreated/tplMod: the template's own creation and last change.
function makeTemplate(key, doc, tplCreated, tplMod, info = {}) {
  // cloned by parsing its text: faster than structuredClone for plain data
  return { key, doc, json: JSON.stringify(doc), slots: findTimeSlots(doc), created: tplCreated, mod: tplMod, ...info };
}

function mapTime(t, tpl, created, mod) {
  if (t <= tpl.created) return created + (t - tpl.created);
  const span = tpl.mod - tpl.created;
  if (t <= tpl.mod && span > 0) return created + Math.round((t - tpl.created) * (mod - created) / span);
  return mod + (t - Math.max(tpl.mod, tpl.created));
}

function instantiate(tpl, created, mod) {
  const doc = JSON.parse(tpl.json);
  for (const s of tpl.slots) setPath(doc, s.path, formatSlot(s, mapTime(s.t, tpl, created, mod)));
  return doc;
}

// Deterministic UUIDs for resources that need one (Zalando): same input,
// same id, never the same for two different inputs in practice.
function uuid(...parts) {
  const h = crypto.createHash('sha1').update(parts.join('/')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// The template, price factor and times of order idx of an account.  The
// first orders walk through every template in turn so that even a small
// account shows each fixture shape; later ones are drawn at random.
function plan(account, idx, templates, nowMs, opts = {}) {
  const r = rng(account.seed, account.marketplace, idx);
  const pool = account.lean && opts.lean && opts.lean.length ? opts.lean : templates;
  const offset = rng(account.seed, 'offset').int(pool.length);
  const tpl = idx < pool.length ? pool[(idx + offset) % pool.length] : pool[r.int(pool.length)];
  // Money is multiplied by 1, 2 or 3: a visible variation that keeps every
  // stated total equal to the sum of its parts.
  const factor = 1 + r.int(3);
  let created;
  let mod;
  if (opts.created != null) {
    created = opts.created;
    mod = opts.mod != null ? opts.mod : created;
  } else {
    created = account.start + idx * account.stepMs;
    const delta = Math.floor(r() * (account.stepMs / 2));
    mod = created + delta;
    // a generated change never lies in the future of the account's creation
    if (created <= nowMs && mod > nowMs) mod = nowMs;
  }
  if (!opts.msPrecision) {
    created = time.floorSec(created);
    mod = time.floorSec(mod);
  }
  if (mod < created) mod = created;
  return { tpl, factor, created, mod, r };
}

module.exports = { makeTemplate, instantiate, uuid, plan, findTimeSlots, setPath };

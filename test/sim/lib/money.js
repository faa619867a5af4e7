'use strict';
// Exact scaling of amounts written as decimal text or JSON numbers.  Prices
// vary by an integer factor per order so that every total a marketplace
// states (OrderTotal, pricingSummary.total, Σ lines) stays the exact sum of
// its parts: adapters parse money exactly and tests compare it.

function scaleDecimal(s, k) {
  if (k === 1) return s;
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return s;
  const frac = m[3] || '';
  const digits = m[2] + frac;
  // integers below 2^53 multiply exactly as doubles; longer ones need BigInt
  const v = digits.length < 15 ? String(Number(digits) * k) : (BigInt(digits) * BigInt(k)).toString();
  const t = v.padStart(frac.length + 1, '0');
  const out = frac.length ? `${t.slice(0, t.length - frac.length)}.${t.slice(t.length - frac.length)}` : t;
  return (m[1] && /[1-9]/.test(v) ? '-' : '') + out;
}

// JSON numbers: String(n) is the shortest text that reads back as n, which
// is the literal for every amount in the fixtures, so this stays exact.
function scaleNumber(n, k) {
  if (typeof n !== 'number' || !Number.isFinite(n) || k === 1) return n;
  const s = String(n);
  if (/e/i.test(s)) return n * k;
  return Number(scaleDecimal(s, k));
}

module.exports = { scaleDecimal, scaleNumber };

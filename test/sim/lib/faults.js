'use strict';
// Faults injected through POST /_sim/faults.  Each applies to the next
// `count` requests that match its marketplace, account (when given) and
// path substring (when given), in the order the faults were added.
// change_between_pages is different: it waits for the next list page
// served to a matching account, then changes `count` orders of that walk.
// expire_token acts at once and is never stored.

const KINDS = ['429', '500', '503', 'timeout', 'slow', 'truncate', 'malformed', 'expire_token', 'change_between_pages'];

class Faults {
  constructor() {
    this.list = [];
    this.nextId = 1;
  }

  // A fault from a request body; throws a message when the body is wrong.
  parse(spec, markets, store) {
    if (!spec || typeof spec !== 'object') throw new Error('body must be a JSON object');
    if (!markets[spec.marketplace]) throw new Error(`marketplace must be one of ${Object.keys(markets).join(', ')}`);
    const kind = String(spec.kind);
    if (!KINDS.includes(kind)) throw new Error(`kind must be one of ${KINDS.join(', ')}`);
    if (spec.account != null) {
      const acc = store.get(spec.account);
      if (!acc) throw new Error(`no account ${spec.account}`);
      if (acc.marketplace !== spec.marketplace) throw new Error(`account ${spec.account} is not a ${spec.marketplace} account`);
    }
    const count = spec.count == null ? 1 : spec.count;
    if (!Number.isInteger(count) || count < 1) throw new Error('count must be a positive integer');
    if (spec.path != null && typeof spec.path !== 'string') throw new Error('path must be a string');
    if (spec.retry_after != null && !(typeof spec.retry_after === 'number' && spec.retry_after >= 0)) {
      throw new Error('retry_after must be a non-negative number of seconds');
    }
    const delay = spec.delay_ms == null ? 1000 : spec.delay_ms;
    if (!(typeof delay === 'number' && delay >= 0)) throw new Error('delay_ms must be a non-negative number');
    return {
      id: this.nextId++,
      marketplace: spec.marketplace,
      account: spec.account == null ? null : String(spec.account),
      kind,
      count,
      remaining: kind === 'change_between_pages' ? 1 : count,
      path: spec.path == null ? null : spec.path,
      retry_after: spec.retry_after == null ? null : spec.retry_after,
      delay_ms: delay,
      applied: 0,
    };
  }

  add(f) {
    this.list.push(f);
    return f;
  }

  clear() {
    const n = this.list.length;
    this.list = [];
    return n;
  }

  matches(f, m, account, url) {
    if (f.marketplace !== m) return false;
    if (f.account && (!account || account.id !== f.account)) return false;
    if (f.path && !url.includes(f.path)) return false;
    return true;
  }

  use(f) {
    f.applied++;
    if (--f.remaining <= 0) this.list = this.list.filter((x) => x !== f);
    return f;
  }

  // The fault this request runs into, if any, counting it as used.
  take(m, account, url) {
    const f = this.list.find((x) => x.kind !== 'change_between_pages' && this.matches(x, m, account, url));
    return f ? this.use(f) : null;
  }

  // After a list page was built for account: a pending change_between_pages.
  takeChange(m, account, url) {
    const f = this.list.find((x) => x.kind === 'change_between_pages' && this.matches(x, m, account, url));
    return f ? this.use(f) : null;
  }
}

module.exports = { Faults, KINDS };

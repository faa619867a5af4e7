'use strict';
// What the simulator saw: request counts, token requests per account,
// webhook key requests per marketplace,
// refusals with their reasons, and concurrency.  Tests use it to assert
// that a client paced itself, reused tokens, or sent nothing wrong.

const MAX_REJECTED = 200;

class Stats {
  constructor() {
    this.inFlight = 0;
    this.reset();
  }

  reset() {
    this.requests = 0;
    this.byMarketplace = {};
    this.byEndpoint = {};
    this.tokenRequests = {};
    this.keyRequests = {};
    this.rejected = [];
    this.rejectedTotal = 0;
    this.faults = {};
    this.maxInFlight = this.inFlight;
  }

  begin() {
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
  }

  end() {
    this.inFlight--;
  }

  count(m, endpoint) {
    this.requests++;
    this.byMarketplace[m] = (this.byMarketplace[m] || 0) + 1;
    const key = `${m} ${endpoint}`;
    this.byEndpoint[key] = (this.byEndpoint[key] || 0) + 1;
  }

  tokenRequest(accountId) {
    this.tokenRequests[accountId] = (this.tokenRequests[accountId] || 0) + 1;
  }

  // webhook signing-key requests per marketplace, answered or refused
  keyRequest(m) {
    this.keyRequests[m] = (this.keyRequests[m] || 0) + 1;
  }

  reject(entry) {
    this.rejectedTotal++;
    this.rejected.push(entry);
    if (this.rejected.length > MAX_REJECTED) this.rejected.splice(0, this.rejected.length - MAX_REJECTED);
  }

  fault(kind) {
    this.faults[kind] = (this.faults[kind] || 0) + 1;
  }

  toJSON() {
    return {
      requests: this.requests,
      by_marketplace: this.byMarketplace,
      by_endpoint: this.byEndpoint,
      token_requests: this.tokenRequests,
      key_requests: this.keyRequests,
      rejected: this.rejected,
      rejected_total: this.rejectedTotal,
      faults_applied: this.faults,
      max_in_flight: this.maxInFlight,
      in_flight: this.inFlight,
    };
  }
}

module.exports = { Stats };

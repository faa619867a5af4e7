/*-------------------------------------------------------------------------
 *
 * run.c
 *	  One sync run of one connection, as a state machine the worker drives:
 *	  get an access token when the marketplace needs one, request a list
 *	  page, fetch what the page lacks (bol and Kaufland details, Amazon
 *	  order items) a few at a time, hand the page over to be stored, and
 *	  move to the next page only after the worker says it is committed.
 *
 * Failures are sorted the way doc/sync_protocol.md says: a 429 waits as
 * long as the marketplace asks (or backs off when it does not say) and is
 * not counted as a failure; a network error, a 5xx or a body that is not
 * the marketplace's shape is retried with exponential backoff and jitter,
 * nexus.sync_retries times in a row at most; 401/403 refreshes the token
 * once and then fails the run as a credentials problem; any other 4xx
 * fails it at once.
 *
 * Nothing here touches the database; jansson runs on malloc in the worker
 * (nexus_adapt_use_malloc), and the payload of a page is palloc'd in the
 * run's own memory context until it is stored.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/pg_prng.h"
#include "utils/memutils.h"

#include "adapter.h"
#include "sync.h"

/* What a transfer was for (its tag); detail requests use their index (>= 0). */
#define TAG_TOKEN	(-1)
#define TAG_LIST	(-2)

/* At most this many throttled waits per run: a marketplace that never lets up fails the run. */
#define MAX_THROTTLED_WAITS 200

typedef enum Phase
{
	PH_LIST,					/* the list page is wanted (or in flight) */
	PH_DETAILS,					/* details of the page are being fetched */
	PH_STORE,					/* the page waits for the worker to store it */
	PH_SAVE_TOKEN,				/* a new token waits to be saved */
	PH_DONE
} Phase;

typedef struct Detail
{
	char	   *id;
	char	   *cursor;			/* the detail's next page (Amazon items), or NULL */
	json_t	   *acc;			/* the order built so far */
	char	   *error;			/* not retried (404): the order is reported as failed */
	bool		sent;			/* in flight, or waiting for a retry */
	bool		done;
} Detail;

/*
 * A token bucket for one kind of request (list or detail) of a run, for
 * marketplaces that announce a sustained rate (Amazon): up to burst
 * requests at once, then rate per second.  rate 0: not paced.
 */
typedef struct Bucket
{
	double		rate;
	double		tokens;
	int			burst;
	int64		at_ms;
} Bucket;

struct NexusRun
{
	int64		run_id;
	pg_uuid_t	tenant;
	pg_uuid_t	connection;
	char	   *marketplace;
	const NxAdapter *a;
	NexusRunLimits limits;
	char	   *user_agent;

	json_t	   *credentials;
	json_t	   *config;
	char	   *region;
	char	   *api_base;
	char	   *auth_base;
	char	   *token;
	int64		token_expires;
	bool		token_in_flight;
	bool		refreshed;		/* the token was renewed after a 401/403 already */

	int64		since;
	int64		as_of;
	char	   *cursor;			/* the page to request; NULL = the first */

	Phase		phase;
	bool		list_in_flight;
	int64		wake_at_ms;		/* nothing is sent before this */
	bool		throttled;
	int			throttled_waits;
	int			failures;		/* failed attempts in a row */
	char	   *last_error;
	int			requests;
	Bucket		buckets[2];		/* 0: list and token requests, 1: details */

	/* The page being read. */
	char	   *next_cursor;
	Detail	   *details;
	int			ndetails;
	int			details_in_flight;
	MemoryContext mcxt;			/* the payload of the page */
	NexusPayload payload;
	bool		have_payload;

	NexusRunOutcome outcome;
	char	   *error;
	int64		watermark;
};

static char *
str_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void
set_error(char **dst, const char *fmt,...) pg_attribute_printf(2, 3);

static void
set_error(char **dst, const char *fmt,...)
{
	va_list		ap;
	char		buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(*dst);
	*dst = strdup(buf);
}

static void
finish_run(NexusRun *run, NexusRunOutcome outcome, const char *error)
{
	run->phase = PH_DONE;
	run->outcome = outcome;
	if (error)
		set_error(&run->error, "%s", error);
	if (outcome == RUN_OK)
		run->watermark = run->as_of - run->a->lag_seconds;
}

static void
clear_page(NexusRun *run)
{
	free(run->next_cursor);
	run->next_cursor = NULL;
	for (int i = 0; i < run->ndetails; i++)
	{
		free(run->details[i].id);
		free(run->details[i].cursor);
		free(run->details[i].error);
		if (run->details[i].acc)
			json_decref(run->details[i].acc);
	}
	free(run->details);
	run->details = NULL;
	run->ndetails = 0;
	run->details_in_flight = 0;
	MemoryContextReset(run->mcxt);
	memset(&run->payload, 0, sizeof(run->payload));
	run->have_payload = false;
}

NexusRun *
nexus_run_create(const NexusRunSpec *spec, const NexusRunLimits *limits, char **error)
{
	NexusRun   *run;
	json_error_t jerr;
	const json_t *v;
	char	   *api = NULL;
	char	   *auth = NULL;
	const NxAdapter *a = nx_adapter_find(spec->marketplace);

	if (a == NULL || a->list_request == NULL)
	{
		*error = psprintf("marketplace \"%s\" cannot be synced", spec->marketplace);
		return NULL;
	}
	run = calloc(1, sizeof(NexusRun));
	if (run == NULL)
	{
		*error = pstrdup("out of memory");
		return NULL;
	}
	run->run_id = spec->run_id;
	run->tenant = spec->tenant;
	run->connection = spec->connection;
	run->marketplace = strdup(spec->marketplace);
	run->a = a;
	run->limits = *limits;
	run->user_agent = strdup(limits->user_agent);
	run->limits.user_agent = run->user_agent;
	run->region = str_or_null(spec->region);
	run->token = str_or_null(spec->token);
	run->token_expires = spec->token_expires;
	run->as_of = spec->as_of;
	run->since = spec->since;
	if (a->max_days_back > 0)
	{
		/* An hour inside the limit, so that a slow first request is not refused. */
		int64		floor = spec->as_of - (int64) a->max_days_back * 86400 + 3600;

		run->since = Max(run->since, floor);
	}
	run->cursor = str_or_null(spec->page_cursor);
	run->buckets[0].burst = Max(a->list_burst, 1);
	run->buckets[0].tokens = run->buckets[0].burst;
	run->buckets[1].burst = Max(a->detail_burst, 1);
	run->buckets[1].tokens = run->buckets[1].burst;
	run->mcxt = AllocSetContextCreate(TopMemoryContext, "nexus sync run", ALLOCSET_DEFAULT_SIZES);

	run->credentials = nx_json_loadb(spec->credentials_json, strlen(spec->credentials_json), &jerr);
	run->config = nx_json_loadb(spec->config_json, strlen(spec->config_json), &jerr);
	if (!json_is_object(run->credentials) || !json_is_object(run->config))
	{
		*error = pstrdup("the connection's credentials or config are not JSON objects");
		nexus_run_free(run);
		return NULL;
	}
	if (!nexus_sync_base_urls(spec->marketplace, run->credentials, run->config, run->region,
							  &api, &auth, error))
	{
		nexus_run_free(run);
		return NULL;
	}
	run->api_base = api;
	run->auth_base = auth;
	if ((v = json_object_get(run->config, "page_size")) && json_is_integer(v))
		run->limits.page_size = (int) Min(Max(json_integer_value(v), 1), a->max_page_size);
	return run;
}

bool
nexus_sync_base_urls(const char *marketplace, const void *credentials, const void *config,
					 const char *region, char **api_base, char **auth_base, char **error)
{
	const NxAdapter *a = nx_adapter_find(marketplace);
	const json_t *v;
	NxError		err = {{0}};
	char	   *api = NULL;
	char	   *auth = NULL;

	*api_base = *auth_base = NULL;
	if (a == NULL || a->base_urls == NULL)
	{
		*error = psprintf("marketplace \"%s\" has no API", marketplace);
		return false;
	}
	if (a->base_urls(credentials, region, &api, &auth, &err) != NX_OK)
	{
		*error = psprintf("%s", err.msg);
		free(api);
		free(auth);
		return false;
	}
	/* config overrides: the only thing that differs between production and tests */
	if ((v = json_object_get(config, "api_base_url")) && json_is_string(v))
	{
		free(api);
		api = strdup(json_string_value(v));
	}
	if ((v = json_object_get(config, "auth_base_url")) && json_is_string(v))
	{
		free(auth);
		auth = strdup(json_string_value(v));
	}
	for (char *b = api; b && *b && b[strlen(b) - 1] == '/';)
		b[strlen(b) - 1] = '\0';
	for (char *b = auth; b && *b && b[strlen(b) - 1] == '/';)
		b[strlen(b) - 1] = '\0';
	if (api == NULL || strncmp(api, "http", 4) != 0)
	{
		*error = psprintf("the API base URL \"%s\" is not an http(s) URL", api ? api : "");
		free(api);
		free(auth);
		return false;
	}
	*api_base = api;
	*auth_base = auth;
	return true;
}

void
nexus_run_free(NexusRun *run)
{
	if (run == NULL)
		return;
	clear_page(run);
	if (run->credentials)
		json_decref(run->credentials);
	if (run->config)
		json_decref(run->config);
	if (run->token)
		explicit_bzero(run->token, strlen(run->token));
	free(run->token);
	free(run->marketplace);
	free(run->user_agent);
	free(run->region);
	free(run->api_base);
	free(run->auth_base);
	free(run->cursor);
	free(run->last_error);
	free(run->error);
	MemoryContextDelete(run->mcxt);
	free(run);
}

int64
nexus_run_id(const NexusRun *run)
{
	return run->run_id;
}

const pg_uuid_t *
nexus_run_tenant(const NexusRun *run)
{
	return &run->tenant;
}

const pg_uuid_t *
nexus_run_connection(const NexusRun *run)
{
	return &run->connection;
}

const char *
nexus_run_marketplace(const NexusRun *run)
{
	return run->marketplace;
}

static void
fill_context(NexusRun *run, NxSyncContext *ctx, int64 now_ms)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->credentials = run->credentials;
	ctx->config = run->config;
	ctx->region = run->region;
	ctx->api_base = run->api_base;
	ctx->auth_base = run->auth_base;
	ctx->access_token = run->token;
	ctx->user_agent = run->user_agent;
	ctx->page_size = run->limits.page_size;
	ctx->now = now_ms / 1000;
}

static bool
needs_token(NexusRun *run, int64 now_ms)
{
	return run->a->token_request != NULL &&
		(run->token == NULL || run->token_expires - 60 <= now_ms / 1000);
}

/* Backoff for the n-th retry: base * 2^(n-1), capped, with "equal jitter". */
static int64
backoff_ms(const NexusRunLimits *l, int n)
{
	double		d = l->backoff_ms;

	for (int i = 1; i < n && d < l->backoff_max_ms; i++)
		d *= 2;
	d = Min(d, (double) l->backoff_max_ms);
	return (int64) (d / 2 + pg_prng_double(&pg_global_prng_state) * d / 2);
}

/*
 * May a request of this kind go now?  If the bucket is empty, no, and the
 * run sleeps until it holds a token again.
 */
static bool
may_send(NexusRun *run, int kind, int64 now_ms)
{
	Bucket	   *b = &run->buckets[kind];

	if (b->rate > 0)
	{
		b->tokens = Min((double) b->burst, b->tokens + (now_ms - b->at_ms) * b->rate / 1000.0);
		b->at_ms = now_ms;
		if (b->tokens < 1)
		{
			run->wake_at_ms = Max(run->wake_at_ms, now_ms + (int64) ((1 - b->tokens) * 1000.0 / b->rate) + 1);
			return false;
		}
	}
	/* Counted also before the rate is known: the first answers tell it. */
	b->tokens -= 1;
	return true;
}

static bool
send(NexusRun *run, NexusHttp *http, NxRequest *req, int tag)
{
	bool		ok = nexus_http_send(http, run, tag, req->method, req->url, req->headers,
									 req->nheaders, req->body, req->body_len);

	if (ok)
		run->requests++;
	nx_request_free(req);
	return ok;
}

/* A request could not even be built: the connection's settings are wrong. */
static void
build_failed(NexusRun *run, const char *what, NxError *err)
{
	char		buf[512];

	snprintf(buf, sizeof(buf), "could not build the %s request: %s", what, err->msg);
	finish_run(run, RUN_FAILED, buf);
}

void
nexus_run_advance(NexusRun *run, NexusHttp *http, int64 now_ms, NexusRunStatus *st)
{
	NxSyncContext ctx;
	NxRequest	req;
	NxError		err = {{0}};
	bool		busy;

	memset(st, 0, sizeof(*st));
	if (run->phase == PH_LIST || run->phase == PH_DETAILS)
	{
		busy = run->token_in_flight || run->list_in_flight || run->details_in_flight > 0;
		if (now_ms >= run->wake_at_ms)
		{
			run->throttled = false;
			if (needs_token(run, now_ms))
			{
				/* Renew once, with nothing else in flight that still carries the old one. */
				if (!busy)
				{
					fill_context(run, &ctx, now_ms);
					nx_request_init(&req, "POST");
					if (run->a->token_request(&ctx, &req, &err) != NX_OK)
					{
						nx_request_free(&req);
						build_failed(run, "token", &err);
					}
					else if (!send(run, http, &req, TAG_TOKEN))
						finish_run(run, RUN_FAILED, "out of memory");
					else
						run->token_in_flight = true;
				}
			}
			else if (run->phase == PH_LIST && !run->list_in_flight && may_send(run, 0, now_ms))
			{
				fill_context(run, &ctx, now_ms);
				nx_request_init(&req, "GET");
				if (run->a->list_request(&ctx, run->since, run->cursor, &req, &err) != NX_OK)
				{
					nx_request_free(&req);
					build_failed(run, "list", &err);
				}
				else if (!send(run, http, &req, TAG_LIST))
					finish_run(run, RUN_FAILED, "out of memory");
				else
					run->list_in_flight = true;
			}
			else if (run->phase == PH_DETAILS)
			{
				for (int i = 0; i < run->ndetails && run->details_in_flight < run->limits.per_run; i++)
				{
					Detail	   *d = &run->details[i];

					if (d->done || d->sent)
						continue;
					if (!may_send(run, 1, now_ms))
						break;
					fill_context(run, &ctx, now_ms);
					nx_request_init(&req, "GET");
					if (run->a->detail_request(&ctx, d->id, d->cursor, &req, &err) != NX_OK)
					{
						nx_request_free(&req);
						build_failed(run, "detail", &err);
						break;
					}
					if (!send(run, http, &req, i))
					{
						finish_run(run, RUN_FAILED, "out of memory");
						break;
					}
					d->sent = true;
					run->details_in_flight++;
				}
			}
		}
	}

	st->requests = run->requests;
	switch (run->phase)
	{
		case PH_STORE:
			st->step = RUN_STORE;
			break;
		case PH_SAVE_TOKEN:
			st->step = RUN_SAVE_TOKEN;
			break;
		case PH_DONE:
			st->step = RUN_DONE;
			st->outcome = run->outcome;
			st->error = run->error;
			st->watermark = run->watermark;
			break;
		default:
			busy = run->token_in_flight || run->list_in_flight || run->details_in_flight > 0;
			st->step = busy ? RUN_BUSY : RUN_WAIT;
			st->wake_at_ms = run->wake_at_ms;
			st->throttled = run->throttled;
			st->error = run->last_error;
			break;
	}
}

/* Put a request back to be sent again after wait_ms. */
static void
again_after(NexusRun *run, int tag, int64 now_ms, int64 wait_ms)
{
	run->wake_at_ms = Max(run->wake_at_ms, now_ms + wait_ms);
	if (tag >= 0 && tag < run->ndetails)
		run->details[tag].sent = false;
}

/* A failure worth retrying: back off, or give up after nexus.sync_retries in a row. */
static void
transient(NexusRun *run, int tag, int64 now_ms, const char *fmt,...) pg_attribute_printf(4, 5);

static void
transient(NexusRun *run, int tag, int64 now_ms, const char *fmt,...)
{
	va_list		ap;
	char		buf[768];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	set_error(&run->last_error, "%s", buf);
	run->failures++;
	if (run->failures > run->limits.retries)
	{
		char		msg[1024];

		snprintf(msg, sizeof(msg), "%s (gave up after %d attempts)", buf, run->failures);
		finish_run(run, RUN_FAILED, msg);
		return;
	}
	again_after(run, tag, now_ms, backoff_ms(&run->limits, run->failures));
}

/* The start of a body, on one line, for error messages. */
static void
snippet(const char *body, size_t len, char *out, size_t size)
{
	size_t		n = 0;

	for (size_t i = 0; i < len && n + 1 < size && i < 200; i++)
		out[n++] = (body[i] == '\n' || body[i] == '\r' || body[i] == '\t') ? ' ' : body[i];
	out[n] = '\0';
}

static const char *
what(int tag)
{
	return tag == TAG_TOKEN ? "token" : tag == TAG_LIST ? "list" : "detail";
}

static void details_complete(NexusRun *run);

/* The page is in: find out what it lacks, or make its payload now (doc and headers stay the caller's). */
static void
take_page(NexusRun *run, json_t *doc, json_t *headers, int64 now_ms)
{
	NxPage		p;
	NxError		err = {{0}};
	json_t	   *orders = NULL;

	run->list_in_flight = false;

	/*
	 * Amazon on Orders v2026-01-01 lists whole orders: page_orders gives
	 * none to complete, and the page is stored as it is, with no detail
	 * request and so no draw on the detail bucket.
	 */
	if (run->a->page_orders && run->a->page_orders(doc, &orders, &err) != NX_OK)
	{
		NxError		perr = {{0}};

		/* parse_page words a refused page best (Amazon's errors array) */
		nx_page_init(&p);
		if (run->a->parse_page(doc, headers, &p, &perr) != NX_OK)
			err = perr;
		nx_page_free(&p);
		transient(run, TAG_LIST, now_ms, "not a valid %s list page: %s", run->marketplace, err.msg);
		clear_page(run);
		return;
	}
	if (run->a->detail_request == NULL || (run->a->page_orders && orders == NULL))
	{
		MemoryContext old = MemoryContextSwitchTo(run->mcxt);
		char	   *error = NULL;
		bool		ok = nexus_adapt_page_value(run->marketplace, doc, headers, &run->payload, &error);

		MemoryContextSwitchTo(old);
		if (!ok)
		{
			transient(run, TAG_LIST, now_ms, "%s", error);
			clear_page(run);
			return;
		}
		run->have_payload = true;
		run->next_cursor = str_or_null(run->payload.next_cursor);
		run->phase = PH_STORE;
		return;
	}

	/* bol, Kaufland (detail ids) and Amazon (orders without items) */
	nx_page_init(&p);
	if (run->a->parse_page(doc, headers, &p, &err) != NX_OK)
	{
		if (orders)
			json_decref(orders);
		nx_page_free(&p);
		transient(run, TAG_LIST, now_ms, "not a valid %s list page: %s", run->marketplace, err.msg);
		clear_page(run);
		return;
	}
	run->next_cursor = str_or_null(p.next_cursor);
	if (orders)
	{
		const char *id;
		json_t	   *o;

		run->details = calloc(Max(json_object_size(orders), 1), sizeof(Detail));
		json_object_foreach(orders, id, o)
		{
			run->details[run->ndetails].id = strdup(id);
			run->details[run->ndetails].acc = json_incref(o);
			run->ndetails++;
		}
		json_decref(orders);
	}
	else
	{
		run->details = calloc(Max(p.ndetail_ids, 1), sizeof(Detail));
		for (size_t i = 0; i < p.ndetail_ids; i++)
			run->details[run->ndetails++].id = strdup(p.detail_ids[i]);
	}
	nx_page_free(&p);
	run->phase = PH_DETAILS;
	if (run->ndetails == 0)
		details_complete(run);	/* an empty page (bol's "{ }"): nothing to fetch */
}

/* Every detail of the page is in: normalize the orders into the payload. */
static void
details_complete(NexusRun *run)
{
	MemoryContext old = MemoryContextSwitchTo(run->mcxt);
	void	  **orders = palloc0(sizeof(void *) * Max(run->ndetails, 1));
	const char **ids = palloc0(sizeof(char *) * Max(run->ndetails, 1));
	int			n = 0;
	int			nbad = 0;

	for (int i = 0; i < run->ndetails; i++)
		if (run->details[i].acc && run->details[i].error == NULL)
		{
			orders[n] = run->details[i].acc;
			ids[n++] = run->details[i].id;
		}
	nexus_adapt_order_values(run->marketplace, orders, ids, n, &run->payload);
	/* Details the marketplace no longer had are failures of their own. */
	for (int i = 0; i < run->ndetails; i++)
		if (run->details[i].error)
			nbad++;
	if (nbad > 0)
	{
		NexusFailure *f = palloc0(sizeof(NexusFailure) * (run->payload.nfailed + nbad));

		memcpy(f, run->payload.failed, sizeof(NexusFailure) * run->payload.nfailed);
		for (int i = 0; i < run->ndetails; i++)
			if (run->details[i].error)
			{
				f[run->payload.nfailed].external_order_id = pstrdup(run->details[i].id);
				f[run->payload.nfailed].error = pstrdup(run->details[i].error);
				run->payload.nfailed++;
			}
		run->payload.failed = f;
	}
	run->payload.next_cursor = run->next_cursor ? pstrdup(run->next_cursor) : NULL;
	MemoryContextSwitchTo(old);
	run->have_payload = true;
	run->phase = PH_STORE;
}

static void
take_detail(NexusRun *run, int i, json_t *doc, int64 now_ms)
{
	Detail	   *d = &run->details[i];
	NxError		err = {{0}};
	char	   *next = NULL;

	if (run->a->detail_merge(&d->acc, doc, &next, &err) != NX_OK)
	{
		transient(run, i, now_ms, "detail %s: %s", d->id, err.msg);
		return;
	}
	free(d->cursor);
	d->cursor = next;
	d->sent = false;
	if (next == NULL)
		d->done = true;
	for (int k = 0; k < run->ndetails; k++)
		if (!run->details[k].done)
			return;
	details_complete(run);
}

void
nexus_run_response(NexusRun *run, NexusHttpResult *r, int64 now_ms)
{
	int			tag = r->tag;
	NxThrottle	th = {-1, 0};
	json_t	   *headers = (json_t *) r->headers;
	char		body[256];

	if (tag == TAG_TOKEN)
		run->token_in_flight = false;
	else if (tag == TAG_LIST)
		run->list_in_flight = false;
	else if (tag >= 0 && tag < run->ndetails)
		run->details_in_flight--;
	if (run->phase == PH_DONE)
		return;

	if (r->error)
	{
		transient(run, tag, now_ms, "%s request: %s", what(tag), r->error);
		return;
	}
	if (run->a->throttle && headers)
		run->a->throttle((int) r->status, headers, now_ms, &th);
	if (th.rate > 0)
	{
		Bucket	   *b = &run->buckets[tag >= 0 ? 1 : 0];

		if (b->rate <= 0)
			b->at_ms = now_ms;
		b->rate = th.rate;
	}
	snippet(r->body, r->body_len, body, sizeof(body));

	if (r->status == 429)
	{
		int64		wait = th.wait_ms >= 0 ? th.wait_ms : backoff_ms(&run->limits, run->throttled_waits + 1);

		if (++run->throttled_waits > MAX_THROTTLED_WAITS)
		{
			finish_run(run, RUN_FAILED, "the marketplace kept throttling every request (HTTP 429)");
			return;
		}
		wait = Min(wait, (int64) run->limits.backoff_max_ms);
		set_error(&run->last_error, "throttled (HTTP 429), waiting %lld ms", (long long) wait);
		run->throttled = true;
		again_after(run, tag, now_ms, wait);
		return;
	}
	if (r->status == 401 || r->status == 403 || (tag == TAG_TOKEN && r->status >= 400 && r->status < 500))
	{
		if (tag != TAG_TOKEN && run->a->token_request != NULL && !run->refreshed)
		{
			/* The token may have expired early: renew it once and repeat the call. */
			run->refreshed = true;
			free(run->token);
			run->token = NULL;
			again_after(run, tag, now_ms, 0);
			return;
		}
		set_error(&run->error, "the marketplace refused the connection's credentials (HTTP %ld on the %s request): %s",
				  r->status, what(tag), body);
		finish_run(run, RUN_CREDENTIALS, NULL);
		return;
	}
	if (r->status == 404 && tag >= 0)
	{
		/* The order is gone from the marketplace: report it, read the rest. */
		Detail	   *d = &run->details[tag];

		set_error(&d->error, "the marketplace has no order %s (HTTP 404)", d->id);
		d->done = true;
		d->sent = false;
		for (int k = 0; k < run->ndetails; k++)
			if (!run->details[k].done)
				return;
		details_complete(run);
		return;
	}
	if (r->status >= 500 || r->status == 408 || r->status == 0)
	{
		transient(run, tag, now_ms, "%s request: HTTP %ld: %s", what(tag), r->status, body);
		return;
	}
	if (r->status < 200 || r->status >= 300)
	{
		char		msg[512];

		snprintf(msg, sizeof(msg), "the marketplace rejected the %s request (HTTP %ld): %s",
				 what(tag), r->status, body);
		finish_run(run, RUN_FAILED, msg);
		return;
	}

	/* Success.  A budget the response says is spent paces the next request. */
	if (th.wait_ms > 0)
		run->wake_at_ms = Max(run->wake_at_ms, now_ms + Min(th.wait_ms, (int64) run->limits.backoff_max_ms));

	if (tag == TAG_TOKEN)
	{
		char	   *token = NULL;
		int64_t		expires_in = 0;
		NxError		err = {{0}};

		if (nx_oauth_token_parse(r->body, r->body_len, &token, &expires_in, &err) != NX_OK)
		{
			transient(run, tag, now_ms, "%s", err.msg);
			return;
		}
		free(run->token);
		run->token = token;
		run->token_expires = now_ms / 1000 + expires_in;
		run->failures = 0;
		run->phase = PH_SAVE_TOKEN;	/* the list or details go on once it is saved */
		return;
	}

	{
		json_error_t jerr;
		json_t	   *doc = nx_json_loadb_keys(r->body, r->body_len, run->a->keys, &jerr);

		if (doc == NULL)
		{
			transient(run, tag, now_ms, "%s response is not JSON (%s): %s", what(tag), jerr.text, body);
			return;
		}
		run->failures = 0;
		if (tag == TAG_LIST)
		{
			json_t	   *h = headers ? json_incref(headers) : nx_json_new_object();

			/* bol pages by number and says nothing of it: the adapter learns it here. */
			json_object_set_new(h, "x-nexus-cursor", json_string(run->cursor ? run->cursor : "1"));
			take_page(run, doc, h, now_ms);

			/*
			 * Freed as soon as the payload or detail list is taken from it,
			 * while still in the cache: kept until the page was stored
			 * (behind other runs' pages), freeing it cost as much as
			 * parsing it (bench/sync).
			 */
			json_decref(h);
			json_decref(doc);
		}
		else if (tag >= 0 && tag < run->ndetails)
		{
			take_detail(run, tag, doc, now_ms);
			json_decref(doc);
		}
		else
			json_decref(doc);
	}
}

bool
nexus_run_payload(NexusRun *run, NexusPayload *out, const char **next_cursor, char **error)
{
	if (run->phase != PH_STORE || !run->have_payload)
	{
		*error = pstrdup("no page to store");
		return false;
	}
	*out = run->payload;
	*next_cursor = run->next_cursor;
	return true;
}

void
nexus_run_stored(NexusRun *run, bool stored)
{
	if (!stored)
	{
		finish_run(run, RUN_FAILED, "the page could not be stored");
		return;
	}
	free(run->cursor);
	run->cursor = run->next_cursor;
	run->next_cursor = NULL;
	run->requests = 0;
	run->refreshed = false;
	clear_page(run);
	if (run->cursor == NULL)
		finish_run(run, RUN_OK, NULL);
	else
		run->phase = PH_LIST;
}

const char *
nexus_run_token(NexusRun *run, int64 *expires)
{
	*expires = run->token_expires;
	return run->token;
}

void
nexus_run_token_saved(NexusRun *run)
{
	/* Back to what the token was fetched for: a list page, or the details of one. */
	run->phase = run->ndetails > 0 ? PH_DETAILS : PH_LIST;
}

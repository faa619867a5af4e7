/*-------------------------------------------------------------------------
 *
 * keys.c
 *	  One fetch of a marketplace's webhook signing keys, as a small state
 *	  machine sync worker 1 drives over its curl multi handle beside its
 *	  runs: a token (eBay: an application token; bol: the sync's, cached
 *	  or new), then the key request, then the adapter's parse.
 *
 * Like run.c, nothing here touches the database or raises an error: the
 * worker picks the connection whose credentials are used, stores what
 * comes back in a short transaction, and logs a failure.  A fetch is not
 * retried here; the wanted key stays wanted, and the worker asks again
 * after nexus.webhook_key_retry_interval.  Transfers carry the fetch as
 * their owner, so the worker never hands them to a run.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "adapter.h"
#include "sync.h"

#define TAG_TOKEN	1
#define TAG_KEYS	2

typedef enum KeyPhase
{
	KP_TOKEN,					/* a token is wanted (or in flight) */
	KP_KEYS,					/* the key request is wanted (or in flight) */
	KP_DONE
} KeyPhase;

struct NexusKeyFetch
{
	const NxAdapter *a;
	char	   *key_id;
	json_t	   *credentials;
	json_t	   *config;
	char	   *region;
	char	   *api_base;
	char	   *auth_base;
	char	   *user_agent;
	char	   *token;
	bool		cached_token;	/* the token came from the cache: renew once on 401/403 */
	KeyPhase	phase;
	bool		in_flight;
	NxWebhookKeys keys;
	NexusKeysOutcome outcome;
	char	   *error;
};

static void
done(NexusKeyFetch *f, NexusKeysOutcome outcome, const char *fmt,...) pg_attribute_printf(3, 4);

static void
done(NexusKeyFetch *f, NexusKeysOutcome outcome, const char *fmt,...)
{
	f->phase = KP_DONE;
	f->outcome = outcome;
	if (fmt)
	{
		va_list		ap;
		char		buf[512];

		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		free(f->error);
		f->error = strdup(buf);
	}
}

NexusKeyFetch *
nexus_keys_create(const NexusKeySpec *spec, char **error)
{
	const NxAdapter *a = nx_adapter_find(spec->marketplace);
	NexusKeyFetch *f;
	json_error_t jerr;

	if (a == NULL || a->key_request == NULL || a->parse_keys == NULL)
	{
		*error = psprintf("%s publishes no webhook signing keys", spec->marketplace);
		return NULL;
	}
	if ((f = calloc(1, sizeof(NexusKeyFetch))) == NULL)
	{
		*error = pstrdup("out of memory");
		return NULL;
	}
	f->a = a;
	nx_webhook_keys_init(&f->keys);
	f->key_id = strdup(spec->key_id);
	f->region = spec->region ? strdup(spec->region) : NULL;
	f->user_agent = strdup(spec->user_agent);
	f->credentials = nx_json_loadb(spec->credentials_json, strlen(spec->credentials_json), &jerr);
	f->config = nx_json_loadb(spec->config_json, strlen(spec->config_json), &jerr);
	if (f->key_id == NULL || f->user_agent == NULL ||
		!json_is_object(f->credentials) || !json_is_object(f->config))
	{
		*error = pstrdup("the connection's credentials or config are not JSON objects");
		nexus_keys_free(f);
		return NULL;
	}
	if (!nexus_sync_base_urls(spec->marketplace, f->credentials, f->config, f->region,
							  &f->api_base, &f->auth_base, error))
	{
		nexus_keys_free(f);
		return NULL;
	}
	/* Only the sync's own token may be reused: eBay's key endpoint wants the application's. */
	if (spec->token && a->key_token_request == NULL)
	{
		f->token = strdup(spec->token);
		f->cached_token = f->token != NULL;
	}
	f->phase = f->token || (a->key_token_request == NULL && a->token_request == NULL) ? KP_KEYS : KP_TOKEN;
	return f;
}

void
nexus_keys_free(NexusKeyFetch *f)
{
	if (f == NULL)
		return;
	nx_webhook_keys_free(&f->keys);
	if (f->credentials)
		json_decref(f->credentials);
	if (f->config)
		json_decref(f->config);
	if (f->token)
		explicit_bzero(f->token, strlen(f->token));
	free(f->token);
	free(f->key_id);
	free(f->region);
	free(f->api_base);
	free(f->auth_base);
	free(f->user_agent);
	free(f->error);
	free(f);
}

bool
nexus_keys_advance(NexusKeyFetch *f, NexusHttp *http)
{
	NxSyncContext ctx;
	NxRequest	req;
	NxError		err = {{0}};
	int			rc;
	const char *what;

	if (f->phase == KP_DONE)
		return true;
	if (f->in_flight)
		return false;
	memset(&ctx, 0, sizeof(ctx));
	ctx.credentials = f->credentials;
	ctx.config = f->config;
	ctx.region = f->region;
	ctx.api_base = f->api_base;
	ctx.auth_base = f->auth_base;
	ctx.access_token = f->token;
	ctx.user_agent = f->user_agent;
	if (f->phase == KP_TOKEN)
	{
		what = "token";
		rc = f->a->key_token_request ? f->a->key_token_request(&ctx, &req, &err) :
			f->a->token_request(&ctx, &req, &err);
	}
	else
	{
		what = "key";
		rc = f->a->key_request(&ctx, f->key_id, &req, &err);
	}
	if (rc != NX_OK)
	{
		done(f, KEYS_FAILED, "could not build the %s request: %s", what, err.msg);
		return true;
	}
	if (!nexus_http_send(http, f, f->phase == KP_TOKEN ? TAG_TOKEN : TAG_KEYS, req.method, req.url,
						 req.headers, req.nheaders, req.body, req.body_len))
		done(f, KEYS_FAILED, "out of memory");
	else
		f->in_flight = true;
	nx_request_free(&req);
	return f->phase == KP_DONE;
}

/* The start of a body, on one line, for the log. */
static void
snippet(const char *body, size_t len, char *out, size_t size)
{
	size_t		n = 0;

	for (size_t i = 0; body && i < len && n + 1 < size && i < 160; i++)
		out[n++] = (body[i] == '\n' || body[i] == '\r' || body[i] == '\t') ? ' ' : body[i];
	out[n] = '\0';
}

void
nexus_keys_response(NexusKeyFetch *f, NexusHttpResult *r)
{
	const char *what = r->tag == TAG_TOKEN ? "token" : "key";
	char		body[200];
	NxError		err = {{0}};

	f->in_flight = false;
	if (f->phase == KP_DONE)
		return;
	if (r->error)
	{
		done(f, KEYS_FAILED, "%s request: %s", what, r->error);
		return;
	}
	snippet(r->body, r->body_len, body, sizeof(body));
	if (r->tag == TAG_KEYS && (r->status == 401 || r->status == 403) && f->cached_token)
	{
		/* The cached token may have ended early: one fresh one. */
		f->cached_token = false;
		explicit_bzero(f->token, strlen(f->token));
		free(f->token);
		f->token = NULL;
		f->phase = KP_TOKEN;
		return;
	}
	if (r->tag == TAG_KEYS && r->status == 404 && !f->a->keys_listed)
	{
		done(f, KEYS_UNKNOWN, "the marketplace has no key \"%s\" (HTTP 404)", f->key_id);
		return;
	}
	if (r->status < 200 || r->status >= 300)
	{
		done(f, KEYS_FAILED, "the marketplace answered the %s request with HTTP %ld: %s",
			 what, r->status, body);
		return;
	}
	if (r->tag == TAG_TOKEN)
	{
		int64_t		expires_in;

		if (nx_oauth_token_parse(r->body, r->body_len, &f->token, &expires_in, &err) != NX_OK)
			done(f, KEYS_FAILED, "%s", err.msg);
		else
			f->phase = KP_KEYS;
		return;
	}
	if (f->a->parse_keys(r->body, r->body_len, f->key_id, &f->keys, &err) != NX_OK)
		done(f, KEYS_FAILED, "not a %s key response: %s", f->a->name, err.msg);
	else
		done(f, KEYS_OK, NULL);
}

NexusKeysOutcome
nexus_keys_outcome(const NexusKeyFetch *f, const char **error)
{
	*error = f->error;
	return f->outcome;
}

int
nexus_keys_count(const NexusKeyFetch *f)
{
	return (int) f->keys.nkeys;
}

const char *
nexus_keys_id(const NexusKeyFetch *f, int i)
{
	return f->keys.keys[i].key_id;
}

const char *
nexus_keys_pem(const NexusKeyFetch *f, int i)
{
	return f->keys.keys[i].pem;
}

int
nexus_keys_ttl(const NexusKeyFetch *f)
{
	return f->a->key_ttl_seconds;
}

bool
nexus_keys_listed(const NexusKeyFetch *f)
{
	return f->a->keys_listed;
}

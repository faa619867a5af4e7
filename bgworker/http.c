/*-------------------------------------------------------------------------
 *
 * http.c
 *	  A sync worker's transfers: one curl multi handle keeps up to
 *	  max_in_flight requests going, at most max_per_host of them to one
 *	  host, so that a slow or dead marketplace holds only its own share
 *	  while the others go on.  Requests over the limits wait in a queue in
 *	  the order they came.  Connections are kept alive and reused (HTTP/2
 *	  where the server offers it over TLS), bodies are capped, and nothing
 *	  here raises an error or blocks longer than it is asked to.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <sys/time.h>

#include "adapter.h"
#include "sync.h"

typedef struct Transfer
{
	struct Transfer *next;		/* in the queue, or the in-flight list */
	NexusHttp  *http;
	void	   *owner;
	int			tag;
	char		host[256];		/* scheme://host:port, the per-host key */
	char	   *method;
	char	   *url;
	char	  **headers;
	size_t		nheaders;
	char	   *req_body;
	size_t		req_body_len;
	CURL	   *easy;
	struct curl_slist *slist;
	char	   *body;
	size_t		body_len;
	size_t		body_cap;
	bool		too_large;
	json_t	   *resp_headers;
	char		errbuf[CURL_ERROR_SIZE];
	double		started;
} Transfer;

typedef struct HostCount
{
	char		host[256];
	int			n;
} HostCount;

struct NexusHttp
{
	CURLM	   *multi;
	NexusHttpSettings s;
	Transfer   *queue;			/* waiting, oldest first */
	Transfer   *running;		/* in flight */
	int			in_flight;
	HostCount  *hosts;
	int			nhosts;
	int			hosts_cap;
	/* Finished, not yet collected by nexus_http_next (oldest first). */
	NexusHttpResult *done;
	int			ndone;
	int			done_cap;
};

static double
now_seconds(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

NexusHttp *
nexus_http_create(void)
{
	NexusHttp  *h = calloc(1, sizeof(NexusHttp));

	if (h == NULL)
		return NULL;
	h->multi = curl_multi_init();
	if (h->multi == NULL)
	{
		free(h);
		return NULL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long) CURLPIPE_MULTIPLEX);
	h->s.max_in_flight = 64;
	h->s.max_per_host = 16;
	h->s.connect_timeout_ms = 10000;
	h->s.timeout_ms = 60000;
	h->s.max_body = 64 * 1024 * 1024;
	return h;
}

void
nexus_http_configure(NexusHttp *h, const NexusHttpSettings *s)
{
	h->s = *s;
	/* Idle connections kept for reuse: enough for every host's share. */
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long) Max(s->max_in_flight, 8));
}

static HostCount *
host_count(NexusHttp *h, const char *host)
{
	for (int i = 0; i < h->nhosts; i++)
		if (strcmp(h->hosts[i].host, host) == 0)
			return &h->hosts[i];
	if (h->nhosts == h->hosts_cap)
	{
		int			cap = h->hosts_cap ? h->hosts_cap * 2 : 16;
		HostCount  *n = realloc(h->hosts, cap * sizeof(HostCount));

		if (n == NULL)
			return NULL;
		h->hosts = n;
		h->hosts_cap = cap;
	}
	strlcpy(h->hosts[h->nhosts].host, host, sizeof(h->hosts[0].host));
	h->hosts[h->nhosts].n = 0;
	return &h->hosts[h->nhosts++];
}

static void
transfer_free(Transfer *t)
{
	if (t == NULL)
		return;
	if (t->easy)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->slist);
	free(t->method);
	free(t->url);
	for (size_t i = 0; i < t->nheaders; i++)
		free(t->headers[i]);
	free(t->headers);
	free(t->req_body);
	free(t->body);
	if (t->resp_headers)
		json_decref(t->resp_headers);
	free(t);
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	Transfer   *t = arg;
	size_t		n = size * nmemb;

	if (t->body_len + n > t->http->s.max_body)
	{
		t->too_large = true;
		return 0;				/* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (t->body_len + n + 1 > t->body_cap)
	{
		size_t		cap = Max(t->body_cap * 2, t->body_len + n + 1);
		char	   *b;

		cap = Max(cap, 16384);
		if ((b = realloc(t->body, cap)) == NULL)
			return 0;
		t->body = b;
		t->body_cap = cap;
	}
	memcpy(t->body + t->body_len, data, n);
	t->body_len += n;
	t->body[t->body_len] = '\0';
	return n;
}

/*
 * One header line.  A status line starts a new header block (a 100
 * Continue, or any interim response), so only the final response's
 * headers remain.  Names are lower-cased; a repeated header is joined
 * with ", " as HTTP allows.
 */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	Transfer   *t = arg;
	size_t		n = size * nmemb;
	const char *colon;
	char		name[128];
	size_t		nlen;
	const char *v;
	size_t		vlen;
	char	   *value;
	json_t	   *old;
	json_t	   *js;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
	{
		json_object_clear(t->resp_headers);
		return n;
	}
	colon = memchr(data, ':', n);
	if (colon == NULL || colon == data)
		return n;
	nlen = Min((size_t) (colon - data), sizeof(name) - 1);
	for (size_t i = 0; i < nlen; i++)
		name[i] = pg_tolower((unsigned char) data[i]);
	name[nlen] = '\0';
	v = colon + 1;
	vlen = n - (size_t) (v - data);
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	old = json_object_get(t->resp_headers, name);
	if (old && json_is_string(old))
		value = nx_sprintf("%s, %.*s", json_string_value(old), (int) vlen, v);
	else
		value = nx_strndup(v, vlen);
	if (value == NULL)
		return 0;
	/* A header that is not UTF-8 becomes null rather than kept mangled. */
	js = json_string(value);
	json_object_set_new(t->resp_headers, name, js ? js : json_null());
	free(value);
	return n;
}

static bool
start(NexusHttp *h, Transfer *t)
{
	CURL	   *e = curl_easy_init();

	if (e == NULL)
		return false;
	t->easy = e;
	for (size_t i = 0; i < t->nheaders; i++)
	{
		struct curl_slist *s = curl_slist_append(t->slist, t->headers[i]);

		if (s == NULL)
			return false;
		t->slist = s;
	}
	/* curl would add "Expect: 100-continue" to bodies; the APIs answer at once. */
	t->slist = curl_slist_append(t->slist, "Expect:");
	if ((t->resp_headers = nx_json_new_object()) == NULL)
		return false;

	curl_easy_setopt(e, CURLOPT_URL, t->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->s.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->s.timeout_ms);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->slist);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	if (strcmp(t->method, "GET") != 0)
	{
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long) t->req_body_len);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, t->req_body ? t->req_body : "");
	}
	t->started = now_seconds();
	return curl_multi_add_handle(h->multi, e) == CURLM_OK;
}

static void
finish(NexusHttp *h, Transfer *t, CURLcode code)
{
	NexusHttpResult r;

	memset(&r, 0, sizeof(r));
	r.owner = t->owner;
	r.tag = t->tag;
	r.seconds = now_seconds() - t->started;
	if (code == CURLE_OK)
	{
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
		r.body = t->body ? t->body : strdup("");
		r.body_len = t->body_len;
		t->body = NULL;
		r.headers = t->resp_headers;
		t->resp_headers = NULL;
	}
	else if (t->too_large)
		r.error = nx_sprintf("the response is larger than nexus.sync_max_response_size (%zu kB)",
							 h->s.max_body / 1024);
	else
		r.error = nx_sprintf("%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));

	if (h->ndone == h->done_cap)
	{
		int			cap = h->done_cap ? h->done_cap * 2 : 16;
		NexusHttpResult *d = realloc(h->done, cap * sizeof(NexusHttpResult));

		if (d == NULL)
		{
			nexus_http_result_free(&r);
			return;				/* the owner's lease runs out and the run is retried */
		}
		h->done = d;
		h->done_cap = cap;
	}
	h->done[h->ndone++] = r;
}

/* Start queued transfers while the limits allow, oldest first. */
static void
start_queued(NexusHttp *h)
{
	Transfer  **link = &h->queue;

	while (*link && h->in_flight < h->s.max_in_flight)
	{
		Transfer   *t = *link;
		HostCount  *hc = host_count(h, t->host);

		if (hc == NULL || hc->n >= h->s.max_per_host)
		{
			link = &t->next;
			continue;
		}
		*link = t->next;
		if (!start(h, t))
		{
			finish(h, t, CURLE_OUT_OF_MEMORY);
			transfer_free(t);
			continue;
		}
		hc->n++;
		h->in_flight++;
		t->next = h->running;
		h->running = t;
	}
}

static char *
dup_or_null(const char *s, size_t len)
{
	return s ? nx_strndup(s, len) : NULL;
}

bool
nexus_http_send(NexusHttp *h, void *owner, int tag, const char *method, const char *url,
				char *const *headers, size_t nheaders, const char *body, size_t body_len)
{
	Transfer   *t = calloc(1, sizeof(Transfer));
	Transfer  **tail;

	if (t == NULL)
		return false;
	t->http = h;
	t->owner = owner;
	t->tag = tag;
	t->method = strdup(method);
	t->url = strdup(url);
	t->headers = calloc(Max(nheaders, 1), sizeof(char *));
	t->req_body = dup_or_null(body, body_len);
	t->req_body_len = body ? body_len : 0;
	if (t->method == NULL || t->url == NULL || t->headers == NULL || (body && t->req_body == NULL))
	{
		transfer_free(t);
		return false;
	}
	for (size_t i = 0; i < nheaders; i++)
	{
		if ((t->headers[i] = strdup(headers[i])) == NULL)
		{
			transfer_free(t);
			return false;
		}
		t->nheaders++;
	}
	/* Transfers are counted per origin (nx_url_origin); a URL without one shares a bucket of its own. */
	if (!nx_url_origin(url, t->host, sizeof(t->host), NULL))
		strlcpy(t->host, "?", sizeof(t->host));
	for (tail = &h->queue; *tail; tail = &(*tail)->next)
		;
	*tail = t;
	start_queued(h);
	return true;
}

static void
release(NexusHttp *h, Transfer *t)
{
	HostCount  *hc = host_count(h, t->host);

	if (hc && hc->n > 0)
		hc->n--;
	h->in_flight--;
	curl_multi_remove_handle(h->multi, t->easy);
}

void
nexus_http_cancel(NexusHttp *h, void *owner)
{
	Transfer  **link;

	for (link = &h->queue; *link;)
	{
		Transfer   *t = *link;

		if (t->owner == owner)
		{
			*link = t->next;
			transfer_free(t);
		}
		else
			link = &t->next;
	}
	for (link = &h->running; *link;)
	{
		Transfer   *t = *link;

		if (t->owner == owner)
		{
			*link = t->next;
			release(h, t);
			transfer_free(t);
		}
		else
			link = &t->next;
	}
	/* Results already finished but not collected belong to it too. */
	for (int i = 0; i < h->ndone;)
	{
		if (h->done[i].owner == owner)
		{
			nexus_http_result_free(&h->done[i]);
			memmove(&h->done[i], &h->done[i + 1], (h->ndone - i - 1) * sizeof(NexusHttpResult));
			h->ndone--;
		}
		else
			i++;
	}
	start_queued(h);
}

bool
nexus_http_poll(NexusHttp *h, int timeout_ms)
{
	int			still;
	int			left;
	CURLMsg    *msg;

	if (h->in_flight == 0 && h->queue == NULL)
		return false;
	curl_multi_perform(h->multi, &still);
	if (h->in_flight > 0 && timeout_ms > 0)
	{
		curl_multi_poll(h->multi, NULL, 0, timeout_ms, NULL);
		curl_multi_perform(h->multi, &still);
	}
	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL)
	{
		Transfer   *t = NULL;
		Transfer  **link;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
		for (link = &h->running; *link && *link != t; link = &(*link)->next)
			;
		if (*link == NULL)
			continue;
		*link = t->next;
		finish(h, t, msg->data.result);
		release(h, t);
		transfer_free(t);
	}
	start_queued(h);
	return h->in_flight > 0 || h->queue != NULL;
}

bool
nexus_http_next(NexusHttp *h, NexusHttpResult *r)
{
	if (h->ndone == 0)
		return false;
	*r = h->done[0];
	memmove(&h->done[0], &h->done[1], (h->ndone - 1) * sizeof(NexusHttpResult));
	h->ndone--;
	return true;
}

void
nexus_http_result_free(NexusHttpResult *r)
{
	free(r->error);
	free(r->body);
	if (r->headers)
		json_decref((json_t *) r->headers);
	memset(r, 0, sizeof(*r));
}

int
nexus_http_in_flight(NexusHttp *h)
{
	return h->in_flight;
}

void
nexus_http_destroy(NexusHttp *h)
{
	NexusHttpResult r;

	if (h == NULL)
		return;
	while (h->queue)
	{
		Transfer   *t = h->queue;

		h->queue = t->next;
		transfer_free(t);
	}
	while (h->running)
	{
		Transfer   *t = h->running;

		h->running = t->next;
		release(h, t);
		transfer_free(t);
	}
	while (nexus_http_next(h, &r))
		nexus_http_result_free(&r);
	free(h->done);
	free(h->hosts);
	curl_multi_cleanup(h->multi);
	free(h);
}

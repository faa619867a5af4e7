/*-------------------------------------------------------------------------
 *
 * context.c
 *	  Who is calling: user, tenant, role and scopes of the current request.
 *
 * PostgREST describes each request in settings: request.jwt.claims (the
 * JWT's claims as JSON text), request.headers (JSON, lower-case names) and,
 * for older setups, request.jwt.claim.<name>.  Supabase Realtime switches
 * role and claims several times inside one transaction, so nothing here is
 * cached per transaction or per statement.  Instead guc.c defines those
 * settings with a hook that bumps request_generation on every change
 * (including the reset at transaction end), and everything derived from
 * them is cached against that counter; the parse itself is also skipped
 * when the texts are unchanged.
 *
 * What comes from the database, the caller's membership, is cached across
 * requests against context_generation, which any change to
 * nexus.memberships bumps in every backend through a relcache invalidation
 * (the table's statement trigger sends it): suspending or removing a member
 * takes effect on the next request, and at once inside the transaction
 * that made the change.
 *
 * These functions run for every row a policy filters, so their common path
 * is two integer comparisons; nexus.has_scope() and nexus.tenant_id(scope)
 * also keep their verdict in the call site's fn_extra.
 *
 * The tenant comes from the x-tenant-id header when one is sent (a user may
 * belong to several tenants), else from the claim nexus.tenant_claim_path;
 * either way it counts only if the user is an active member of it.  A
 * request authenticated by an API key (api_keys.c) has the key's tenant and
 * scopes instead, and no user.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "nexus.h"

/* Parsed form of one claims/headers text, valid while the text is unchanged. */
typedef struct RequestCache
{
	char	   *claims_text;	/* request.jwt.claims as last seen */
	char	   *legacy_sub;		/* request.jwt.claim.sub as last seen */
	char	   *headers_text;	/* request.headers as last seen */
	bool		parsed;
	uint64		generation;		/* request_generation the parse is checked against */

	bool		has_user;
	pg_uuid_t	user;
	bool		has_claim_tenant;
	pg_uuid_t	claim_tenant;
	bool		header_sent;	/* x-tenant-id present, even if malformed */
	bool		has_header_tenant;
	pg_uuid_t	header_tenant;
} RequestCache;

/* Membership verdict for (user, tenant), valid for one generation. */
typedef struct MemberCache
{
	uint64		generation;
	pg_uuid_t	user;
	pg_uuid_t	tenant;
	NexusRole	role;
} MemberCache;

#define MEMBER_CACHE_SIZE 1024	/* direct-mapped, by hash of (user, tenant) */
#define CLAIMS_CACHE_SIZE 256	/* direct-mapped, by hash of the claims text */

/*
 * What we read from one claims text.  A user's JWT is the same on every
 * request for as long as it lives, so parses are kept per text: a request
 * costs a hash of the claims instead of a JSON parse.
 */
typedef struct ClaimsEntry
{
	char	   *text;			/* in TopMemoryContext; NULL = empty slot */
	uint64		epoch;			/* claims_epoch when parsed */
	bool		has_user;
	pg_uuid_t	user;
	bool		has_tenant;
	pg_uuid_t	tenant;
} ClaimsEntry;

static ClaimsEntry claims_cache[CLAIMS_CACHE_SIZE];

/* Bumped when the claim path changes what a parse means. */
static uint64 claims_epoch = 1;

static RequestCache req = {0};
static MemberCache member_cache[MEMBER_CACHE_SIZE];

/* Bumped whenever a request setting changes (guc.c's hooks). */
static uint64 request_generation = 1;

/* Bumped whenever memberships (or the claim path) change. */
static uint64 context_generation = 1;

/* Oid of nexus.memberships as last looked up, to filter invalidations. */
static Oid	memberships_relid = InvalidOid;

/* The resolved caller, valid for one (request, context) generation pair. */
typedef struct Resolved
{
	uint64		request_gen;
	uint64		context_gen;
	bool		has_tenant;
	pg_uuid_t	tenant;
	NexusRole	role;
} Resolved;

static Resolved resolved = {0};

/* Per call site: the scope argument, validated once, and the last verdict. */
typedef struct ScopeCache
{
	int			len;
	char	   *scope;			/* NUL-terminated, in fn_mcxt */
	uint64		request_gen;
	uint64		context_gen;
	bool		granted;
	bool		has_tenant;
	pg_uuid_t	tenant;
} ScopeCache;

static const char *const role_names[] = {NULL, "viewer", "manager", "admin", "owner"};

/* Resources whose writes are settings: admin and above only. */
static const char *const settings_resources[] = {
	"tenant", "members", "api_keys", "connections", "billing", NULL
};

/* Scopes only the owner holds: never granted by a role below, nor by a key's "*". */
static const char *const owner_only_scopes[] = {
	"tenant:delete", "tenant:transfer", "billing:write", NULL
};

void
nexus_context_changed(void)
{
	context_generation++;
	claims_epoch++;				/* the claim path may have changed too */
	req.parsed = false;
}

void
nexus_request_changed(void)
{
	request_generation++;
}

uint64
nexus_request_generation(void)
{
	return request_generation;
}

NexusRole
nexus_role_from_name(const char *name, bool missing_ok)
{
	for (int i = NEXUS_ROLE_VIEWER; i <= NEXUS_ROLE_OWNER; i++)
		if (name && strcmp(name, role_names[i]) == 0)
			return (NexusRole) i;
	if (!missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown tenant role \"%s\"", name ? name : ""),
				 errhint("Tenant roles are viewer, manager, admin and owner.")));
	return NEXUS_ROLE_NONE;
}

const char *
nexus_role_name(NexusRole role)
{
	return role_names[role];
}

/*
 * Parse a UUID without raising: claims and headers come from outside, and a
 * malformed value means "no such user/tenant", not a failed query.
 */
bool
nexus_parse_uuid(const char *s, int len, pg_uuid_t *out)
{
	int			n = 0;

	for (int i = 0; i < len; i++)
	{
		int			v;
		char		c = s[i];

		if (c == '-' && (n == 8 || n == 12 || n == 16 || n == 20))
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return false;
		if (n >= 32)
			return false;
		if (n % 2 == 0)
			out->data[n / 2] = v << 4;
		else
			out->data[n / 2] |= v;
		n++;
	}
	return n == 32;
}

static bool
same_text(const char *cached, const char *current)
{
	if (current != NULL && *current == '\0')
		current = NULL;			/* '' is what a reset local setting reads as */
	if (cached == NULL || current == NULL)
		return cached == current;
	return strcmp(cached, current) == 0;
}

static char *
keep_text(const char *s)
{
	return (s && *s) ? MemoryContextStrdup(TopMemoryContext, s) : NULL;
}

/* Follow a dot-separated path of object keys; NULL unless it ends on a string. */
static JsonbValue *
jsonb_string_at(Jsonb *doc, const char *path, JsonbValue *buf)
{
	JsonbContainer *c = &doc->root;
	const char *p = path;

	if (!JB_ROOT_IS_OBJECT(doc))
		return NULL;
	for (;;)
	{
		const char *dot = strchr(p, '.');
		int			len = dot ? (int) (dot - p) : (int) strlen(p);
		JsonbValue *v = getKeyJsonValueFromContainer(c, p, len, buf);

		if (v == NULL)
			return NULL;
		if (dot == NULL)
			return v->type == jbvString ? v : NULL;
		if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
			return NULL;
		c = v->val.binary.data;
		p = dot + 1;
	}
}

static void
setting_errcontext(void *arg)
{
	errcontext("while reading the setting \"%s\" of the current request", (const char *) arg);
}

static Jsonb *
parse_setting_json(const char *name, const char *text)
{
	ErrorContextCallback cb;
	Datum		d;

	cb.callback = setting_errcontext;
	cb.arg = (void *) name;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	d = DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
	error_context_stack = cb.previous;
	return DatumGetJsonbP(d);
}

/* The parse of one claims text, from the cache or made now. */
static const ClaimsEntry *
parsed_claims(const char *claims)
{
	ClaimsEntry *e = &claims_cache[hash_bytes((const unsigned char *) claims, strlen(claims)) %
								   CLAIMS_CACHE_SIZE];
	ClaimsEntry fresh = {0};
	Jsonb	   *doc;
	JsonbValue	buf;
	JsonbValue *v;

	if (e->text && e->epoch == claims_epoch && strcmp(e->text, claims) == 0)
		return e;

	/* Parse fully before touching the slot, so an error leaves it coherent. */
	doc = parse_setting_json("request.jwt.claims", claims);
	if ((v = jsonb_string_at(doc, "sub", &buf)) != NULL)
		fresh.has_user = nexus_parse_uuid(v->val.string.val, v->val.string.len, &fresh.user);
	if ((v = jsonb_string_at(doc, nexus_tenant_claim_path, &buf)) != NULL)
		fresh.has_tenant = nexus_parse_uuid(v->val.string.val, v->val.string.len, &fresh.tenant);
	fresh.text = MemoryContextStrdup(TopMemoryContext, claims);
	fresh.epoch = claims_epoch;
	if (e->text)
		pfree(e->text);
	*e = fresh;
	return e;
}

/* Re-read the request settings, re-parsing only what changed. */
static void
refresh_request(void)
{
	const char *claims = nexus_request_claims;
	const char *legacy = nexus_request_legacy_sub;
	const char *headers = nexus_request_headers;
	RequestCache fresh = {0};
	JsonbValue	buf;
	JsonbValue *v;

	if (req.parsed && req.generation == request_generation)
		return;
	if (req.parsed && same_text(req.claims_text, claims) &&
		same_text(req.legacy_sub, legacy) && same_text(req.headers_text, headers))
	{
		req.generation = request_generation;
		return;
	}

	if (claims && *claims)
	{
		const ClaimsEntry *e = parsed_claims(claims);

		fresh.has_user = e->has_user;
		fresh.user = e->user;
		fresh.has_claim_tenant = e->has_tenant;
		fresh.claim_tenant = e->tenant;
	}
	/* Like Supabase's auth.uid(): the legacy setting wins over the claim. */
	if (legacy && *legacy)
		fresh.has_user = nexus_parse_uuid(legacy, strlen(legacy), &fresh.user);

	/*
	 * PostgREST's headers differ on every request, and few carry
	 * x-tenant-id: look for the name before paying for a parse.
	 */
	if (headers && *headers && strstr(headers, "x-tenant-id") != NULL)
	{
		Jsonb	   *doc = parse_setting_json("request.headers", headers);

		if ((v = jsonb_string_at(doc, "x-tenant-id", &buf)) != NULL)
		{
			fresh.header_sent = true;
			fresh.has_header_tenant = nexus_parse_uuid(v->val.string.val, v->val.string.len,
													   &fresh.header_tenant);
		}
	}

	if (req.claims_text)
		pfree(req.claims_text);
	if (req.legacy_sub)
		pfree(req.legacy_sub);
	if (req.headers_text)
		pfree(req.headers_text);
	fresh.claims_text = keep_text(claims);
	fresh.legacy_sub = keep_text(legacy);
	fresh.headers_text = keep_text(headers);
	fresh.parsed = true;
	fresh.generation = request_generation;
	req = fresh;
}

static NexusRole
cached_membership_role(const pg_uuid_t *tenant, const pg_uuid_t *user)
{
	uint32		h = hash_bytes((const unsigned char *) tenant->data, UUID_LEN) ^
		hash_bytes((const unsigned char *) user->data, UUID_LEN);
	MemberCache *m = &member_cache[h % MEMBER_CACHE_SIZE];

	if (m->generation != context_generation ||
		memcmp(&m->user, user, sizeof(pg_uuid_t)) != 0 ||
		memcmp(&m->tenant, tenant, sizeof(pg_uuid_t)) != 0)
	{
		NexusRole	r = nexus_membership_role(tenant, user, &memberships_relid);

		m->user = *user;
		m->tenant = *tenant;
		m->role = r;
		m->generation = context_generation;
	}
	return m->role;
}

/*
 * The caller's tenant and role.  Returns false when the request has no
 * tenant: no claims, not a member, suspended, or a malformed tenant id.
 */
static bool
current_tenant(pg_uuid_t *tenant, NexusRole *role)
{
	const NexusKeyContext *key;
	const pg_uuid_t *want;
	Resolved	r = {0};

	if (resolved.request_gen == request_generation &&
		resolved.context_gen == context_generation)
		goto done;

	r.request_gen = request_generation;
	r.context_gen = context_generation;
	if ((key = nexus_current_key()) != NULL)
	{
		r.has_tenant = true;
		r.tenant = key->tenant_id;
		r.role = NEXUS_ROLE_NONE;
	}
	else
	{
		refresh_request();
		want = NULL;
		if (!req.has_user)
			want = NULL;
		else if (req.header_sent)
			/* An explicit choice that is malformed never falls back to the claim. */
			want = req.has_header_tenant ? &req.header_tenant : NULL;
		else if (req.has_claim_tenant)
			want = &req.claim_tenant;
		if (want)
		{
			r.role = cached_membership_role(want, &req.user);
			r.has_tenant = r.role != NEXUS_ROLE_NONE;
			r.tenant = *want;
		}
	}
	resolved = r;

done:
	if (!resolved.has_tenant)
		return false;
	*tenant = resolved.tenant;
	*role = resolved.role;
	return true;
}

/*
 * Relcache invalidations reach every backend when nexus.memberships changes
 * (its statement trigger sends one), and also on DROP EXTENSION.
 */
static void
context_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == memberships_relid)
		context_generation++;
}

static bool callbacks_registered = false;

void
nexus_context_init(void)
{
	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(context_relcache_callback, (Datum) 0);
		callbacks_registered = true;
	}
}

/* ---------- scopes ---------- */

static void
validate_scope(const char *scope)
{
	const char *colon = strchr(scope, ':');
	bool		ok = true;

	if (strcmp(scope, "*") == 0)
		return;
	if (colon == NULL || colon == scope || strchr(colon + 1, ':') != NULL)
		ok = false;
	for (const char *p = scope; ok && p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
			ok = false;
	if (ok && strcmp(colon + 1, "*") != 0 && strcmp(colon + 1, "read") != 0 &&
		strcmp(colon + 1, "write") != 0 && strcmp(colon + 1, "delete") != 0 &&
		strcmp(colon + 1, "transfer") != 0)
		ok = false;
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid scope \"%s\"", scope),
				 errdetail("A scope is \"*\" or \"resource:action\", with a lower-case resource and an action among read, write, delete, transfer and *."),
				 errhint("For example \"orders:read\" or \"orders:*\".")));
}

static bool
in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* Does a role grant a scope?  The role matrix of the product, in one place. */
static bool
role_grants(NexusRole role, const char *scope)
{
	const char *colon = strchr(scope, ':');
	char		resource[NAMEDATALEN];
	const char *action;

	if (role == NEXUS_ROLE_OWNER)
		return true;
	if (colon == NULL)			/* "*" itself */
		return false;
	action = colon + 1;
	strlcpy(resource, scope, Min(colon - scope + 1, NAMEDATALEN));

	if (role >= NEXUS_ROLE_VIEWER && strcmp(action, "read") == 0)
		return true;
	if (role == NEXUS_ROLE_ADMIN)
		return !in_list(scope, owner_only_scopes) && strcmp(action, "*") != 0;
	if (role == NEXUS_ROLE_MANAGER)
		return (strcmp(action, "write") == 0 || strcmp(action, "delete") == 0) &&
			!in_list(resource, settings_resources);
	return false;
}

/* Does an API key's scope list grant a scope?  "x:write" implies "x:read". */
static bool
key_grants(const NexusKeyContext *key, const char *scope)
{
	const char *colon = strchr(scope, ':');
	size_t		rlen = colon ? colon - scope : 0;

	if (in_list(scope, owner_only_scopes))
		return false;
	for (int i = 0; i < key->nscopes; i++)
	{
		const char *g = key->scopes[i];

		if (strcmp(g, "*") == 0 || strcmp(g, scope) == 0)
			return true;
		if (colon && strncmp(g, scope, rlen + 1) == 0 &&
			(strcmp(g + rlen + 1, "*") == 0 ||
			 (strcmp(g + rlen + 1, "write") == 0 && strcmp(colon + 1, "read") == 0)))
			return true;
	}
	return false;
}

/* ---------- SQL-callable ---------- */

PG_FUNCTION_INFO_V1(nexus_user_id);
Datum
nexus_user_id(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *out;

	if (nexus_current_key())
		PG_RETURN_NULL();
	refresh_request();
	if (!req.has_user)
		PG_RETURN_NULL();
	out = palloc(sizeof(pg_uuid_t));
	*out = req.user;
	PG_RETURN_UUID_P(out);
}

PG_FUNCTION_INFO_V1(nexus_tenant_id);
Datum
nexus_tenant_id(PG_FUNCTION_ARGS)
{
	pg_uuid_t	tenant;
	NexusRole	role;
	pg_uuid_t  *out;

	if (!current_tenant(&tenant, &role))
		PG_RETURN_NULL();
	out = palloc(sizeof(pg_uuid_t));
	*out = tenant;
	PG_RETURN_UUID_P(out);
}

PG_FUNCTION_INFO_V1(nexus_tenant_role);
Datum
nexus_tenant_role(PG_FUNCTION_ARGS)
{
	pg_uuid_t	tenant;
	NexusRole	role;

	if (!current_tenant(&tenant, &role) || role == NEXUS_ROLE_NONE)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(nexus_role_name(role)));
}

PG_FUNCTION_INFO_V1(nexus_has_role);
Datum
nexus_has_role(PG_FUNCTION_ARGS)
{
	char	   *want_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	NexusRole	want = nexus_role_from_name(want_name, false);
	pg_uuid_t	tenant;
	NexusRole	role;

	if (!current_tenant(&tenant, &role))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(role >= want);
}

/*
 * The verdict for the scope argument of this call site, cached in fn_extra
 * until the request or the memberships change.  In a policy the scope is a
 * constant, so it is validated once per query, not per row.
 */
static ScopeCache *
scope_verdict(FunctionCallInfo fcinfo)
{
	text	   *arg = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(arg);
	ScopeCache *c = (ScopeCache *) fcinfo->flinfo->fn_extra;
	pg_uuid_t	tenant;
	NexusRole	role;
	const NexusKeyContext *key;

	if (c == NULL)
		c = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ScopeCache));
	if (c->scope == NULL || c->len != len || memcmp(c->scope, VARDATA_ANY(arg), len) != 0)
	{
		char	   *scope = text_to_cstring(arg);

		validate_scope(scope);
		if (c->scope)
			pfree(c->scope);
		c->scope = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, scope);
		c->len = len;
		c->request_gen = 0;		/* never matches a live generation */
	}
	if (c->request_gen == request_generation && c->context_gen == context_generation)
		return c;

	c->granted = false;
	c->has_tenant = current_tenant(&tenant, &role);
	if (c->has_tenant)
	{
		key = nexus_current_key();
		c->granted = key ? key_grants(key, c->scope) : role_grants(role, c->scope);
		c->tenant = tenant;
	}
	c->request_gen = request_generation;
	c->context_gen = context_generation;
	return c;
}

PG_FUNCTION_INFO_V1(nexus_has_scope);
Datum
nexus_has_scope(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(scope_verdict(fcinfo)->granted);
}

/*
 * nexus.tenant_id(scope): the tenant, but only when the request holds the
 * scope.  Policies compare tenant_id with it, which the planner turns into
 * one index key evaluated once per scan instead of a per-row filter.
 */
PG_FUNCTION_INFO_V1(nexus_tenant_id_for);
Datum
nexus_tenant_id_for(PG_FUNCTION_ARGS)
{
	ScopeCache *c = scope_verdict(fcinfo);
	pg_uuid_t  *out;

	if (!c->granted)
		PG_RETURN_NULL();
	out = palloc(sizeof(pg_uuid_t));
	*out = c->tenant;
	PG_RETURN_UUID_P(out);
}

/*
 * Statement trigger on nexus.memberships: every backend's cached verdicts
 * are stale.  A relcache invalidation reaches this backend at the end of
 * the command and the others when the transaction commits.
 */
PG_FUNCTION_INFO_V1(nexus_memberships_changed);
Datum
nexus_memberships_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "nexus: memberships_changed must be called as a trigger");
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}

/* Validation of a scope list, for create_api_key. */
PG_FUNCTION_INFO_V1(nexus_validate_scope);
Datum
nexus_validate_scope(PG_FUNCTION_ARGS)
{
	validate_scope(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

/*
 * nexus_private.caller_is_service(): is the outer caller (not the owner of
 * the SECURITY DEFINER function we may be in) a superuser or service_role?
 */
PG_FUNCTION_INFO_V1(nexus_caller_is_service);
Datum
nexus_caller_is_service(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(nexus_caller_is_service_role());
}

/* ---------- for C callers ---------- */

/* The request's tenant, as nexus.tenant_id() sees it. */
bool
nexus_request_tenant(pg_uuid_t *tenant)
{
	NexusRole	role;

	return current_tenant(tenant, &role);
}

/* Whether the request holds scope in its tenant, as nexus.has_scope(). */
bool
nexus_request_has_scope(const char *scope)
{
	pg_uuid_t	tenant;
	NexusRole	role;
	const NexusKeyContext *key;

	validate_scope(scope);
	if (!current_tenant(&tenant, &role))
		return false;
	key = nexus_current_key();
	return key ? key_grants(key, scope) : role_grants(role, scope);
}

bool
nexus_caller_is_service_role(void)
{
	Oid			outer = GetOuterUserId();
	Oid			service = get_role_oid("service_role", true);

	return superuser_arg(outer) || (OidIsValid(service) && has_privs_of_role(outer, service));
}

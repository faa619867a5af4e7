/*-------------------------------------------------------------------------
 *
 * context.c
 *	  Who is calling: user, tenant, role and scopes of the current request.
 *
 * PostgREST describes each request in settings: request.jwt.claims (the
 * JWT's claims as JSON text), request.headers (JSON, lower-case names) and,
 * for older setups, request.jwt.claim.<name>.  Supabase Realtime switches
 * role and claims several times inside one transaction, so nothing here is
 * cached per transaction or per statement: the parsed claims and headers
 * are cached keyed on their exact text, and re-parsed whenever it differs.
 * What we derive from the database (the caller's membership) is cached for
 * one transaction only, and dropped as soon as this backend changes a
 * membership: suspending or removing a member takes effect on the next
 * request, and in the same transaction for our own RPCs.
 *
 * These functions run for every row a policy filters, so the common path is
 * three setting look-ups and three string comparisons.
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

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
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

static RequestCache req = {0};
static MemberCache member = {0};

/* Bumped at every transaction end and every membership change. */
static uint64 context_generation = 1;

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
	req.parsed = false;			/* the claim path may have changed too */
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
		int			len = dot ? dot - p : strlen(p);
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

/* Re-read the request settings, re-parsing only when their text changed. */
static void
refresh_request(void)
{
	const char *claims = GetConfigOption("request.jwt.claims", true, false);
	const char *legacy = GetConfigOption("request.jwt.claim.sub", true, false);
	const char *headers = GetConfigOption("request.headers", true, false);
	RequestCache fresh = {0};
	JsonbValue	buf;
	JsonbValue *v;

	if (req.parsed && same_text(req.claims_text, claims) &&
		same_text(req.legacy_sub, legacy) && same_text(req.headers_text, headers))
		return;

	/* Parse fully before touching the cache, so an error leaves it coherent. */
	if (legacy && *legacy)
		fresh.has_user = nexus_parse_uuid(legacy, strlen(legacy), &fresh.user);
	if (claims && *claims)
	{
		Jsonb	   *doc = parse_setting_json("request.jwt.claims", claims);

		/* Like Supabase's auth.uid(): the legacy setting wins over the claim. */
		if (!(legacy && *legacy) && (v = jsonb_string_at(doc, "sub", &buf)) != NULL)
			fresh.has_user = nexus_parse_uuid(v->val.string.val, v->val.string.len, &fresh.user);
		if ((v = jsonb_string_at(doc, nexus_tenant_claim_path, &buf)) != NULL)
			fresh.has_claim_tenant = nexus_parse_uuid(v->val.string.val, v->val.string.len,
												&fresh.claim_tenant);
	}
	if (headers && *headers)
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
	req = fresh;
}

/*
 * The caller's tenant and role.  Returns false when the request has no
 * tenant: no claims, not a member, suspended, or a malformed tenant id.
 */
static bool
current_tenant(pg_uuid_t *tenant, NexusRole *role)
{
	const NexusKeyContext *key = nexus_current_key();
	const pg_uuid_t *want;

	if (key)
	{
		*tenant = key->tenant_id;
		*role = NEXUS_ROLE_NONE;
		return true;
	}

	refresh_request();
	if (!req.has_user)
		return false;
	if (req.header_sent)
	{
		/* An explicit choice that is malformed never falls back to the claim. */
		if (!req.has_header_tenant)
			return false;
		want = &req.header_tenant;
	}
	else if (req.has_claim_tenant)
		want = &req.claim_tenant;
	else
		return false;

	if (member.generation != context_generation ||
		memcmp(&member.user, &req.user, sizeof(pg_uuid_t)) != 0 ||
		memcmp(&member.tenant, want, sizeof(pg_uuid_t)) != 0)
	{
		NexusRole	r = nexus_membership_role(want, &req.user);

		member.user = req.user;
		member.tenant = *want;
		member.role = r;
		member.generation = context_generation;
	}
	if (member.role == NEXUS_ROLE_NONE)
		return false;
	*tenant = member.tenant;
	*role = member.role;
	return true;
}

static void
context_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			context_generation++;
			break;
		default:
			break;
	}
}

static bool xact_callback_registered = false;

void
nexus_context_init(void)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(context_xact_callback, NULL);
		xact_callback_registered = true;
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

PG_FUNCTION_INFO_V1(nexus_has_scope);
Datum
nexus_has_scope(PG_FUNCTION_ARGS)
{
	char	   *scope = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const NexusKeyContext *key;
	pg_uuid_t	tenant;
	NexusRole	role;

	validate_scope(scope);
	if (!current_tenant(&tenant, &role))
		PG_RETURN_BOOL(false);
	key = nexus_current_key();
	if (key)
		PG_RETURN_BOOL(key_grants(key, scope));
	PG_RETURN_BOOL(role_grants(role, scope));
}

/* Statement trigger on nexus.memberships: our cached verdicts are now stale. */
PG_FUNCTION_INFO_V1(nexus_memberships_changed);
Datum
nexus_memberships_changed(PG_FUNCTION_ARGS)
{
	nexus_context_changed();
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
	Oid			outer = GetOuterUserId();
	Oid			service = get_role_oid("service_role", true);

	PG_RETURN_BOOL(superuser_arg(outer) ||
				   (OidIsValid(service) && has_privs_of_role(outer, service)));
}

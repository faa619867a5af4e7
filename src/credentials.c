/*-------------------------------------------------------------------------
 *
 * credentials.c
 *	  Marketplace credentials encrypted at rest with AES-256-GCM.
 *
 * The keys live outside the database, in the file named by the superuser-
 * only setting nexus.credentials_key_file: one key per line,
 * "<version>:<64 hex digits>", '#' starts a comment.  The highest version
 * encrypts; every version listed can decrypt, so rotation is: add a line
 * with a higher version, call nexus.rotate_credentials_key(), then remove
 * the old line.  The file is read on each use (these calls are rare), so a
 * new key needs no reload.
 *
 * Each row stores key version, a random 96-bit nonce and ciphertext||tag.
 * The tenant and connection ids are authenticated as associated data, so a
 * ciphertext copied onto another connection's row does not decrypt.
 *
 * Nothing here returns plaintext to SQL except the superuser-only
 * nexus_private.decrypt_credentials(); the sync workers of later releases
 * call nexus_decrypt_credentials() from C.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include <openssl/evp.h>

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "nexus.h"

#define KEY_BYTES	32
#define NONCE_BYTES 12
#define TAG_BYTES	16
#define MAX_KEYS	64
#define AAD_LABEL	"nexus-credentials:v1"

typedef struct KeyRing
{
	int			n;
	int			versions[MAX_KEYS];
	unsigned char keys[MAX_KEYS][KEY_BYTES];
} KeyRing;

static void
key_file_error(const char *path, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_CONFIG_FILE_ERROR),
			 errmsg("credentials key file \"%s\" is not usable", path),
			 errdetail("%s", detail),
			 errhint("Each line must be \"<version>:<64 hex digits>\", for example one made by: "
					 "echo \"1:$(openssl rand -hex 32)\" > FILE; chmod 600 FILE.")));
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
load_keys(KeyRing *ring)
{
	const char *path = nexus_credentials_key_file;
	struct stat st;
	FILE	   *f;
	char		line[256];
	int			lineno = 0;

	memset(ring, 0, sizeof(*ring));
	if (path == NULL || *path == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no credentials key is configured"),
				 errdetail("Marketplace credentials are stored encrypted, and nexus.credentials_key_file is not set."),
				 errhint("Ask the database administrator to create a key file and set nexus.credentials_key_file in postgresql.conf, then reload.")));
	if (stat(path, &st) != 0)
		key_file_error(path, psprintf("The file cannot be read: %m."));
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		key_file_error(path, "The file is accessible by group or others; it must be readable by the server's user only (mode 0600).");

	f = AllocateFile(path, "r");
	if (f == NULL)
		key_file_error(path, psprintf("The file cannot be opened: %m."));
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *p = line;
		char	   *colon;
		long		version;
		int			nhex = 0;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
			continue;
		colon = strchr(p, ':');
		version = strtol(p, NULL, 10);
		if (colon == NULL || version <= 0 || version > INT_MAX || ring->n >= MAX_KEYS)
		{
			FreeFile(f);
			key_file_error(path, psprintf("Line %d does not start with a positive key version and a colon.", lineno));
		}
		for (p = colon + 1; hexval(p[0]) >= 0 && hexval(p[1]) >= 0 && nhex < KEY_BYTES; p += 2)
			ring->keys[ring->n][nhex++] = (hexval(p[0]) << 4) | hexval(p[1]);
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (nhex != KEY_BYTES || *p != '\0')
		{
			FreeFile(f);
			explicit_bzero(ring, sizeof(*ring));
			key_file_error(path, psprintf("The key on line %d is not exactly 64 hexadecimal digits.", lineno));
		}
		for (int i = 0; i < ring->n; i++)
			if (ring->versions[i] == version)
			{
				FreeFile(f);
				explicit_bzero(ring, sizeof(*ring));
				key_file_error(path, psprintf("Key version %ld appears twice.", version));
			}
		ring->versions[ring->n++] = (int) version;
	}
	FreeFile(f);
	explicit_bzero(line, sizeof(line));
	if (ring->n == 0)
		key_file_error(path, "The file holds no key.");
}

static int
current_index(const KeyRing *ring)
{
	int			best = 0;

	for (int i = 1; i < ring->n; i++)
		if (ring->versions[i] > ring->versions[best])
			best = i;
	return best;
}

/*
 * Access tokens use the same keys under another label (of the same
 * length), so that a stored token can never be passed off as credentials.
 */
#define TOKEN_AAD_LABEL "nexus-accesstoken:v1"
StaticAssertDecl(sizeof(TOKEN_AAD_LABEL) == sizeof(AAD_LABEL), "AAD labels differ in length");

static void
make_aad(const char *label, const pg_uuid_t *tenant, const pg_uuid_t *connection,
		 unsigned char *aad)
{
	memcpy(aad, label, strlen(label));
	memcpy(aad + strlen(label), tenant->data, UUID_LEN);
	memcpy(aad + strlen(label) + UUID_LEN, connection->data, UUID_LEN);
}

#define AAD_BYTES (sizeof(AAD_LABEL) - 1 + 2 * UUID_LEN)

/* Returns ciphertext||tag; false only if OpenSSL fails. */
static bool
gcm_encrypt(const unsigned char *key, const unsigned char *nonce,
			const unsigned char *aad, const char *plain, int len, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int			n;
	bool		ok;

	ok = ctx != NULL &&
		EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
		EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
		EVP_EncryptUpdate(ctx, NULL, &n, aad, AAD_BYTES) == 1 &&
		EVP_EncryptUpdate(ctx, out, &n, (const unsigned char *) plain, len) == 1 &&
		EVP_EncryptFinal_ex(ctx, out + n, &n) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, out + len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/* False when the key is wrong or the data was altered. */
static bool
gcm_decrypt(const unsigned char *key, const unsigned char *nonce,
			const unsigned char *aad, const unsigned char *in, int len, char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int			n;
	bool		ok;

	ok = ctx != NULL && len >= TAG_BYTES &&
		EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
		EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
		EVP_DecryptUpdate(ctx, NULL, &n, aad, AAD_BYTES) == 1 &&
		EVP_DecryptUpdate(ctx, (unsigned char *) out, &n, in, len - TAG_BYTES) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES,
							(void *) (in + len - TAG_BYTES)) == 1 &&
		EVP_DecryptFinal_ex(ctx, (unsigned char *) out + n, &n) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

static bytea *
make_bytea(const unsigned char *data, int len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return b;
}

/* Encrypt under the current key; fills version, nonce and ciphertext. */
static void
encrypt_with_ring(const KeyRing *ring, const char *label, const pg_uuid_t *tenant,
				  const pg_uuid_t *connection, const char *plain, int *version,
				  bytea **nonce_out, bytea **cipher_out)
{
	int			cur = current_index(ring);
	unsigned char nonce[NONCE_BYTES];
	unsigned char aad[AAD_BYTES];
	int			len = strlen(plain);
	unsigned char *out = palloc(len + TAG_BYTES);

	if (!pg_strong_random(nonce, sizeof(nonce)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random nonce")));
	make_aad(label, tenant, connection, aad);
	if (!gcm_encrypt(ring->keys[cur], nonce, aad, plain, len, out))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not encrypt marketplace credentials")));
	*version = ring->versions[cur];
	*nonce_out = make_bytea(nonce, NONCE_BYTES);
	*cipher_out = make_bytea(out, len + TAG_BYTES);
	pfree(out);
}

/*
 * Decrypt what encrypt_with_ring wrote under label.  quiet: NULL instead of
 * an error when it cannot be read (a cached token whose key is gone).
 */
static char *
decrypt_with_ring(const KeyRing *ring, const char *label, const pg_uuid_t *tenant,
				  const pg_uuid_t *connection, int version, bytea *nonce, bytea *cipher,
				  bool quiet)
{
	unsigned char aad[AAD_BYTES];
	int			idx = -1;
	int			len = VARSIZE_ANY_EXHDR(cipher);
	char	   *out;

	for (int i = 0; i < ring->n; i++)
		if (ring->versions[i] == version)
			idx = i;
	if (idx < 0)
	{
		if (quiet)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("credentials key version %d is not in the key file", version),
				 errdetail("The stored credentials were encrypted with key version %d.", version),
				 errhint("Restore that key's line to the file named by nexus.credentials_key_file.")));
	}
	if (VARSIZE_ANY_EXHDR(nonce) != NONCE_BYTES || len < TAG_BYTES)
	{
		if (quiet)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored marketplace credentials are malformed")));
	}
	make_aad(label, tenant, connection, aad);
	out = palloc(len - TAG_BYTES + 1);
	if (!gcm_decrypt(ring->keys[idx], (unsigned char *) VARDATA_ANY(nonce), aad,
					 (unsigned char *) VARDATA_ANY(cipher), len, out))
	{
		pfree(out);
		if (quiet)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not decrypt marketplace credentials"),
				 errdetail("The key of version %d does not open them: the key file holds a different key under that version, or the stored data was altered.", version),
				 errhint("Check that nexus.credentials_key_file names the key file these credentials were written with.")));
	}
	out[len - TAG_BYTES] = '\0';
	return out;
}

/*
 * nexus_private.encrypt_credentials(tenant uuid, connection uuid, plaintext text)
 *   -> (key_version int, nonce bytea, ciphertext bytea)
 */
PG_FUNCTION_INFO_V1(nexus_encrypt_credentials);
Datum
nexus_encrypt_credentials(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *tenant = PG_GETARG_UUID_P(0);
	pg_uuid_t  *connection = PG_GETARG_UUID_P(1);
	char	   *plain = text_to_cstring(PG_GETARG_TEXT_PP(2));
	KeyRing		ring;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int			version;
	bytea	   *nonce;
	bytea	   *cipher;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "nexus: encrypt_credentials must return a composite");
	load_keys(&ring);
	encrypt_with_ring(&ring, AAD_LABEL, tenant, connection, plain, &version, &nonce, &cipher);
	explicit_bzero(&ring, sizeof(ring));
	explicit_bzero(plain, strlen(plain));
	values[0] = Int32GetDatum(version);
	values[1] = PointerGetDatum(nonce);
	values[2] = PointerGetDatum(cipher);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/* Fetch one connection's stored row through SPI; caller is connected. */
static bool
fetch_stored(const pg_uuid_t *tenant, const pg_uuid_t *connection,
			 int *version, bytea **nonce, bytea **cipher)
{
	Oid			types[2] = {UUIDOID, UUIDOID};
	Datum		args[2] = {UUIDPGetDatum(tenant), UUIDPGetDatum(connection)};
	bool		isnull;

	if (SPI_execute_with_args("SELECT key_version, nonce, ciphertext"
							  "  FROM nexus_private.connection_credentials"
							  " WHERE tenant_id = $1 AND connection_id = $2",
							  2, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "nexus: credentials look-up failed");
	if (SPI_processed == 0)
		return false;
	*version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*nonce = DatumGetByteaPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	*cipher = DatumGetByteaPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	return true;
}

/*
 * The plaintext credentials (JSON text) of one connection, palloc'd in the
 * caller's context; NULL when the connection has none.  For C callers only.
 */
char *
nexus_decrypt_credentials(const pg_uuid_t *tenant, const pg_uuid_t *connection)
{
	MemoryContext caller = CurrentMemoryContext;
	KeyRing		ring;
	int			version;
	bytea	   *nonce;
	bytea	   *cipher;
	char	   *plain = NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "nexus: SPI_connect failed");
	if (fetch_stored(tenant, connection, &version, &nonce, &cipher))
	{
		char	   *tmp;

		load_keys(&ring);
		tmp = decrypt_with_ring(&ring, AAD_LABEL, tenant, connection, version, nonce, cipher, false);
		explicit_bzero(&ring, sizeof(ring));
		plain = MemoryContextStrdup(caller, tmp);
		explicit_bzero(tmp, strlen(tmp));
	}
	SPI_finish();
	return plain;
}

/* nexus_private.decrypt_credentials(tenant, connection): superusers only. */
PG_FUNCTION_INFO_V1(nexus_decrypt_credentials_sql);
Datum
nexus_decrypt_credentials_sql(PG_FUNCTION_ARGS)
{
	char	   *plain;

	if (!superuser_arg(GetOuterUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read marketplace credentials"),
				 errdetail("Only a superuser can read stored credentials back.")));
	plain = nexus_decrypt_credentials(PG_GETARG_UUID_P(0), PG_GETARG_UUID_P(1));
	if (plain == NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(plain)));
}

/*
 * nexus.rotate_credentials_key() -> number of rows re-encrypted.
 * Every row not under the newest key version is decrypted and encrypted
 * again in this transaction, so a failure leaves all rows as they were.
 */
PG_FUNCTION_INFO_V1(nexus_rotate_credentials_key);
Datum
nexus_rotate_credentials_key(PG_FUNCTION_ARGS)
{
	KeyRing		ring;
	int			newest;
	int64		done = 0;
	Portal		portal;
	Oid			types[5] = {INT4OID, BYTEAOID, BYTEAOID, UUIDOID, UUIDOID};

	if (!superuser_arg(GetOuterUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to rotate the credentials key"),
				 errhint("Key rotation is an administrator's task: run it as a superuser.")));
	load_keys(&ring);
	newest = ring.versions[current_index(&ring)];

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "nexus: SPI_connect failed");
	portal = SPI_cursor_open_with_args(NULL,
									   "SELECT tenant_id, connection_id, key_version, nonce, ciphertext"
									   "  FROM nexus_private.connection_credentials"
									   " WHERE key_version <> $1 FOR UPDATE",
									   1, (Oid[]) {INT4OID}, (Datum[]) {Int32GetDatum(newest)},
									   NULL, false, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 100);
		if (SPI_processed == 0)
			break;
		{
			SPITupleTable *batch = SPI_tuptable;
			uint64		n = SPI_processed;

			for (uint64 i = 0; i < n; i++)
			{
				HeapTuple	tup = batch->vals[i];
				bool		isnull;
				pg_uuid_t  *tenant = DatumGetUUIDP(SPI_getbinval(tup, batch->tupdesc, 1, &isnull));
				pg_uuid_t  *conn = DatumGetUUIDP(SPI_getbinval(tup, batch->tupdesc, 2, &isnull));
				int			version = DatumGetInt32(SPI_getbinval(tup, batch->tupdesc, 3, &isnull));
				bytea	   *nonce = DatumGetByteaPP(SPI_getbinval(tup, batch->tupdesc, 4, &isnull));
				bytea	   *cipher = DatumGetByteaPP(SPI_getbinval(tup, batch->tupdesc, 5, &isnull));
				char	   *plain = decrypt_with_ring(&ring, AAD_LABEL, tenant, conn, version, nonce, cipher, false);
				int			nv;
				bytea	   *nn;
				bytea	   *nc;
				Datum		args[5];

				encrypt_with_ring(&ring, AAD_LABEL, tenant, conn, plain, &nv, &nn, &nc);
				explicit_bzero(plain, strlen(plain));
				args[0] = Int32GetDatum(nv);
				args[1] = PointerGetDatum(nn);
				args[2] = PointerGetDatum(nc);
				args[3] = UUIDPGetDatum(tenant);
				args[4] = UUIDPGetDatum(conn);
				if (SPI_execute_with_args("UPDATE nexus_private.connection_credentials"
										  "   SET key_version = $1, nonce = $2, ciphertext = $3,"
										  "       updated_at = now()"
										  " WHERE tenant_id = $4 AND connection_id = $5",
										  5, types, args, NULL, false, 0) != SPI_OK_UPDATE)
					elog(ERROR, "nexus: could not store re-encrypted credentials");
				done++;
			}
			SPI_freetuptable(batch);
		}
	}
	SPI_cursor_close(portal);
	SPI_finish();
	explicit_bzero(&ring, sizeof(ring));
	PG_RETURN_INT64(done);
}

/*
 * Encrypt a marketplace access token of a connection for
 * nexus_private.access_tokens (the sync workers).
 */
void
nexus_encrypt_token(const pg_uuid_t *tenant, const pg_uuid_t *connection, const char *token,
					int *version, bytea **nonce, bytea **cipher)
{
	KeyRing		ring;

	load_keys(&ring);
	encrypt_with_ring(&ring, TOKEN_AAD_LABEL, tenant, connection, token, version, nonce, cipher);
	explicit_bzero(&ring, sizeof(ring));
}

/*
 * The token stored by nexus_encrypt_token, or NULL when it cannot be read
 * back (its key was rotated away): a token is only a cache, a new one is
 * fetched instead.
 */
char *
nexus_decrypt_token(const pg_uuid_t *tenant, const pg_uuid_t *connection, int version,
					bytea *nonce, bytea *cipher)
{
	KeyRing		ring;
	char	   *out;

	load_keys(&ring);
	out = decrypt_with_ring(&ring, TOKEN_AAD_LABEL, tenant, connection, version, nonce, cipher, true);
	explicit_bzero(&ring, sizeof(ring));
	return out;
}

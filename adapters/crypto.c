/*-------------------------------------------------------------------------
 *
 * crypto.c
 *	  Signature checks for webhooks: HMAC-SHA256, RSA and ECDSA with PEM
 *	  public keys, base64 and hex, constant-time comparison (OpenSSL), and
 *	  the PEM rewrapping that marketplaces' key endpoints need.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "adapter.h"

int
nx_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
			   unsigned char *out)
{
	unsigned int out_len = 0;

	if (HMAC(EVP_sha256(), key, (int) key_len, data, len, out, &out_len) == NULL ||
		out_len != 32)
	{
		ERR_clear_error();
		return NX_FAIL;
	}
	return NX_OK;
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int
nx_base64_decode(const char *in, unsigned char *out, size_t out_size)
{
	uint32_t	acc = 0;
	int			bits = 0;
	size_t		n = 0;

	if (in == NULL)
		return -1;
	for (const char *p = in; *p; p++)
	{
		int			v;

		if (*p == '=')
		{
			for (p++; *p == '='; p++)
				;
			if (*p != '\0')
				return -1;
			break;
		}
		if ((v = b64_value(*p)) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			if (n >= out_size)
				return -1;
			out[n++] = (unsigned char) (acc >> bits);
		}
	}
	return (int) n;
}

void
nx_base64_encode(const unsigned char *in, size_t len, char *out, size_t out_size)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		n = 0;

	for (size_t i = 0; i < len && n + 4 < out_size; i += 3)
	{
		uint32_t	v = (uint32_t) in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t) in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[n++] = alphabet[(v >> 18) & 63];
		out[n++] = alphabet[(v >> 12) & 63];
		out[n++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		out[n++] = i + 2 < len ? alphabet[v & 63] : '=';
	}
	if (out_size > 0)
		out[n < out_size ? n : out_size - 1] = '\0';
}

void
nx_hex_encode(const unsigned char *in, size_t len, char *out, size_t out_size)
{
	static const char hex[] = "0123456789abcdef";
	size_t		n = 0;

	for (size_t i = 0; i < len && n + 2 < out_size; i++)
	{
		out[n++] = hex[in[i] >> 4];
		out[n++] = hex[in[i] & 15];
	}
	if (out_size > 0)
		out[n] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
nx_hex_decode(const char *hex, unsigned char *out, size_t len)
{
	if (hex == NULL || strlen(hex) != 2 * len)
		return NX_FAIL;
	for (size_t i = 0; i < len; i++)
	{
		int			hi = hex_value(hex[2 * i]);
		int			lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return NX_FAIL;
		out[i] = (unsigned char) (hi << 4 | lo);
	}
	return NX_OK;
}

bool
nx_equal_ct(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int
nx_verify_signature(const char *pem, const char *digest, const void *data, size_t len,
					const unsigned char *sig, size_t sig_len, NxError *err)
{
	BIO		   *bio;
	EVP_PKEY   *key;
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	int			ok;

	if (pem == NULL)
		return nx_fail(err, "no public key to verify the signature with");
	if (digest == NULL)
		return nx_fail(err, "no signature digest named");
	md = strcmp(digest, "sha1") == 0 ? EVP_sha1() : strcmp(digest, "sha256") == 0 ? EVP_sha256() : NULL;
	if (md == NULL)
		return nx_fail(err, "unsupported signature digest \"%.20s\"", digest);
	bio = BIO_new_mem_buf(pem, -1);
	key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (key == NULL)
	{
		ERR_clear_error();
		return nx_fail(err, "the public key is not a PEM public key");
	}
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL &&
		EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
		EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	/* Leave no error behind for the next OpenSSL user in this process. */
	ERR_clear_error();
	return ok ? NX_OK : nx_fail(err, "signature does not match");
}

/* Standard and URL-safe base64, with padding. */
static bool
is_base64_char(char c)
{
	return isalnum((unsigned char) c) || c == '+' || c == '/' || c == '=' || c == '-' || c == '_';
}

int
nx_pem_rewrap(const char *key, char **out)
{
	const char *begin = strstr(key, "-----BEGIN ");
	const char *body = key;
	const char *end = key + strlen(key);
	char		label[40] = "PUBLIC KEY";
	char	   *b64;
	size_t		blen = 0;
	char	   *pem;
	size_t		cap;
	size_t		n;

	*out = NULL;
	if (begin)
	{
		const char *name = begin + strlen("-----BEGIN ");
		const char *name_end = strstr(name, "-----");

		if (name_end == NULL || name_end == name || (size_t) (name_end - name) >= sizeof(label))
			return NX_FAIL;
		for (const char *p = name; p < name_end; p++)
			if (!isupper((unsigned char) *p) && *p != ' ')
				return NX_FAIL;
		memcpy(label, name, name_end - name);
		label[name_end - name] = '\0';
		body = name_end + 5;
		end = strstr(body, "-----END ");
		if (end == NULL)
			return NX_FAIL;
	}
	/* the base64 body without its line breaks or blanks */
	if ((b64 = malloc(end - body + 1)) == NULL)
		return NX_FAIL;
	for (const char *p = body; p < end; p++)
	{
		if (isspace((unsigned char) *p))
			continue;
		if (!is_base64_char(*p))
		{
			free(b64);
			return NX_FAIL;
		}
		b64[blen++] = *p;
	}
	if (blen == 0)
	{
		free(b64);
		return NX_FAIL;
	}
	cap = 2 * strlen(label) + 40 + blen + blen / 64 + 2;
	if ((pem = malloc(cap)) == NULL)
	{
		free(b64);
		return NX_FAIL;
	}
	n = (size_t) snprintf(pem, cap, "-----BEGIN %s-----\n", label);
	for (size_t i = 0; i < blen; i += 64)
	{
		size_t		chunk = blen - i < 64 ? blen - i : 64;

		memcpy(pem + n, b64 + i, chunk);
		n += chunk;
		pem[n++] = '\n';
	}
	snprintf(pem + n, cap - n, "-----END %s-----\n", label);
	free(b64);
	*out = pem;
	return NX_OK;
}

int
nx_public_key_pem(const char *key, const char *kind, const char *field, char **pem,
				  NxError *err)
{
	static const char begin[] = "-----BEGIN PUBLIC KEY-----\n";
	BIO		   *bio;
	EVP_PKEY   *pkey;
	int			want = strcmp(kind, "EC") == 0 ? EVP_PKEY_EC : EVP_PKEY_RSA;
	int			got;

	*pem = NULL;
	if (key == NULL || nx_pem_rewrap(key, pem) != NX_OK)
		return nx_fail(err, "%s: neither PEM nor base64 DER", field);
	/* A certificate or a private key is not what the key endpoints promise. */
	if (strncmp(*pem, begin, sizeof(begin) - 1) != 0)
	{
		free(*pem);
		*pem = NULL;
		return nx_fail(err, "%s: not a PEM public key", field);
	}
	bio = BIO_new_mem_buf(*pem, -1);
	pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	got = pkey ? EVP_PKEY_base_id(pkey) : EVP_PKEY_NONE;
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	if (got != want)
	{
		free(*pem);
		*pem = NULL;
		return nx_fail(err, "%s: %s", field, got == EVP_PKEY_NONE ? "not a public key OpenSSL can read" :
					   want == EVP_PKEY_EC ? "not an EC public key" : "not an RSA public key");
	}
	return NX_OK;
}

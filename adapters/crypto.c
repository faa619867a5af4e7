/*-------------------------------------------------------------------------
 *
 * crypto.c
 *	  Signature checks for webhooks: HMAC-SHA256, RSA and ECDSA with PEM
 *	  public keys, base64 and hex, constant-time comparison (OpenSSL).
 *
 *-------------------------------------------------------------------------
 */
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

	for (size_t i = 0; i < len && n + 5 < out_size; i += 3)
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

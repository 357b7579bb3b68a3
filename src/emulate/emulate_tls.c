/*
 * HTTPS for qscale emulate: an OpenSSL server context either from the
 * operator's certificate and key, or from a private CA generated at start
 * (an EC P-256 key pair that never leaves memory) and a server certificate
 * it signs for 127.0.0.1, ::1 and localhost. The CA certificate is written
 * where the operator says, so that clients can trust it through
 * AWS_CA_BUNDLE. On request the server certificate is made wrong on purpose
 * (expired, or for another host name) so that tests can see clients refuse
 * it. OpenSSL's counters give the handshakes and resumed sessions served.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "emulate_priv.h"

#define DAY_S (24L * 60 * 60)

/* Fill err with what, then OpenSSL's first queued error; -EINVAL. */
static int fail(char *err, size_t err_size, const char *what)
{
	unsigned long e = ERR_get_error();
	char detail[256] = "";

	if (e != 0)
		ERR_error_string_n(e, detail, sizeof(detail));
	snprintf(err, err_size, "%s%s%s", what, detail[0] != '\0' ? ": " : "", detail);
	ERR_clear_error();
	return -EINVAL;
}

/* Add one X.509 v3 extension written in OpenSSL's configuration syntax. */
static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* A fresh random serial number (positive, 64 bits). */
static int set_serial(X509 *cert)
{
	BIGNUM *bn = BN_new();
	int ok = bn != NULL && BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
		BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;

	BN_free(bn);
	return ok ? 0 : -1;
}

/* What a certificate should say; issuer NULL makes it self-signed. */
struct cert_spec {
	const char *cn;
	bool ca;
	const char *san; /* subjectAltName, NULL for none */
	long not_before_s, not_after_s; /* relative to now */
	X509 *issuer;
	EVP_PKEY *issuer_key;
};

/* A certificate for key as spec says, signed with SHA-256; NULL on failure. */
static X509 *make_cert(EVP_PKEY *key, const struct cert_spec *spec)
{
	X509 *cert = X509_new();
	X509V3_CTX ctx;
	int bad = 0;

	if (cert == NULL)
		return NULL;
	X509_NAME *name = X509_get_subject_name(cert);

	bad |= X509_set_version(cert, X509_VERSION_3) != 1;
	bad |= set_serial(cert) != 0;
	bad |= X509_gmtime_adj(X509_getm_notBefore(cert), spec->not_before_s) == NULL;
	bad |= X509_gmtime_adj(X509_getm_notAfter(cert), spec->not_after_s) == NULL;
	bad |= X509_set_pubkey(cert, key) != 1;
	bad |= X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
		       (const unsigned char *)"qscale emulate", -1, -1, 0) != 1;
	bad |= X509_NAME_add_entry_by_txt(
		       name, "CN", MBSTRING_ASC, (const unsigned char *)spec->cn, -1, -1, 0) != 1;
	X509 *issuer = spec->issuer != NULL ? spec->issuer : cert;

	bad |= X509_set_issuer_name(cert, X509_get_subject_name(issuer)) != 1;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	bad |= add_ext(cert, &ctx, NID_basic_constraints,
		spec->ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE");
	bad |= add_ext(cert, &ctx, NID_key_usage,
		spec->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	bad |= add_ext(cert, &ctx, NID_subject_key_identifier, "hash");
	if (!spec->ca) {
		bad |= add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always");
		bad |= add_ext(cert, &ctx, NID_ext_key_usage, "serverAuth");
	}
	if (spec->san != NULL)
		bad |= add_ext(cert, &ctx, NID_subject_alt_name, spec->san);
	EVP_PKEY *signer = spec->issuer_key != NULL ? spec->issuer_key : key;

	bad |= X509_sign(cert, signer, EVP_sha256()) == 0;
	if (bad) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* Write cert as PEM to path (replacing it). */
static int write_pem(const char *path, X509 *cert, char *err, size_t err_size)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		snprintf(err, err_size, "cannot write the CA certificate to %s: %s", path,
			strerror(errno));
		return -errno;
	}
	int ok = PEM_write_X509(f, cert) == 1;

	if (fclose(f) != 0 || !ok) {
		snprintf(err, err_size, "cannot write the CA certificate to %s", path);
		return -EIO;
	}
	return 0;
}

/* Generate a CA and a server certificate into ctx; the CA goes to ca_out. */
static int use_generated(
	SSL_CTX *ctx, const struct emulate_tls_config *cfg, char *err, size_t err_size)
{
	static const char good_san[] = "IP:127.0.0.1,IP:::1,DNS:localhost";
	EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *ca = NULL, *cert = NULL;
	int r = -EINVAL;

	if (ca_key == NULL || key == NULL) {
		r = fail(err, err_size, "cannot generate a key");
		goto out;
	}
	struct cert_spec ca_spec = {
		.cn = "qscale emulate private CA",
		.ca = true,
		.not_before_s = -DAY_S,
		.not_after_s = 30 * DAY_S,
	};
	struct cert_spec srv_spec = {
		.cn = cfg->cert == EMULATE_TLS_CERT_WRONG_HOST ? "not-this-host.invalid"
							       : "localhost",
		.san = cfg->cert == EMULATE_TLS_CERT_WRONG_HOST ? "DNS:not-this-host.invalid"
								: good_san,
		/* Expired: valid only from two days ago to one day ago. */
		.not_before_s = cfg->cert == EMULATE_TLS_CERT_EXPIRED ? -2 * DAY_S : -DAY_S,
		.not_after_s = cfg->cert == EMULATE_TLS_CERT_EXPIRED ? -DAY_S : 30 * DAY_S,
		.issuer_key = ca_key,
	};

	ca = make_cert(ca_key, &ca_spec);
	srv_spec.issuer = ca;
	cert = ca != NULL ? make_cert(key, &srv_spec) : NULL;
	if (cert == NULL) {
		r = fail(err, err_size, "cannot make the certificates");
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		r = fail(err, err_size, "cannot use the generated certificate");
		goto out;
	}
	r = write_pem(cfg->ca_out, ca, err, err_size);
out:
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return r;
}

void emulate_tls_count(SSL_CTX *ctx, struct emulate_tls_stats *stats)
{
	/* OpenSSL's own counters: handshakes completed as a server, sessions resumed. */
	stats->handshakes = (uint64_t)SSL_CTX_sess_accept_good(ctx);
	stats->resumed = (uint64_t)SSL_CTX_sess_hits(ctx);
}

int emulate_tls_context(
	const struct emulate_tls_config *cfg, SSL_CTX **out, char *err, size_t err_size)
{
	static const unsigned char sid_ctx[] = "qscale-emulate";
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int r;

	if (ctx == NULL)
		return fail(err, err_size, "cannot create a TLS context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Resumption, as AWS's endpoints allow: tickets (TLS 1.3) and a session cache. */
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	if (cfg->cert_path != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_path) != 1 ||
			SSL_CTX_use_PrivateKey_file(ctx, cfg->key_path, SSL_FILETYPE_PEM) != 1 ||
			SSL_CTX_check_private_key(ctx) != 1) {
			r = fail(err, err_size, "cannot use --cert/--key");
			SSL_CTX_free(ctx);
			return r;
		}
	} else {
		r = use_generated(ctx, cfg, err, err_size);
		if (r < 0) {
			SSL_CTX_free(ctx);
			return r;
		}
	}
	*out = ctx;
	return 0;
}

/*
 * Typed DynamoDB calls (AWS JSON 1.0) for the HA lease: read a lease item,
 * write it under a condition (create if absent, take over or renew if its
 * record version is the one seen, delete if still ours), and describe the
 * table for doctor. Request builders and response parsers are pure; the
 * asynchronous calls sit on aws_client_call, so they share its signing,
 * retries and credentials. A ConditionalCheckFailedException is an answer
 * (DYNAMODB_CONDITION_FAILED), never an error.
 *
 * The lease item: {"lease": S (the key), "holder": S, "version": S,
 * "duration_ms": N, "renewed_at_ms": N (the holder's wall clock, for people
 * only)}.
 */
#ifndef QSCALE_DYNAMODB_H
#define QSCALE_DYNAMODB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/aws_client.h"

/* The table's partition key: a string attribute of this name, no sort key. */
#define DYNAMODB_LEASE_KEY "lease"
/* Longest holder identity or record version kept, without the NUL. */
#define DYNAMODB_ID_MAX 127

/* One lease record as stored. */
struct dynamodb_lease_item {
	char holder[DYNAMODB_ID_MAX + 1];
	char version[DYNAMODB_ID_MAX + 1];
	int64_t duration_ms;
	int64_t renewed_at_ms;
};

/* The conditional writes of the lease protocol. */
enum dynamodb_lease_op {
	DYNAMODB_LEASE_CREATE, /* PutItem if no item has the key */
	DYNAMODB_LEASE_TAKE_OVER, /* PutItem if the version is still expect_version */
	DYNAMODB_LEASE_RENEW, /* UpdateItem if holder and version are ours */
	DYNAMODB_LEASE_RELEASE, /* DeleteItem if holder and version are ours */
};

struct dynamodb_lease_write {
	enum dynamodb_lease_op op;
	const char *table;
	const char *name; /* the lease's key */
	const char *expect_version; /* TAKE_OVER, RENEW, RELEASE */
	const char *expect_holder; /* RENEW, RELEASE */
	const char *expect_version_alt; /* RELEASE, may be NULL: a renewal's version in flight */
	const struct dynamodb_lease_item *item; /* CREATE, TAKE_OVER, RENEW: the new record */
};

/* What DescribeTable says of the table, as far as the lease needs it. */
struct dynamodb_table_info {
	char status[32]; /* ACTIVE, CREATING, ... */
	char hash_key[64]; /* the partition key's name */
	char hash_type[4]; /* its attribute type: S, N, B */
	bool has_range_key;
};

/* A conditional write that DynamoDB refused because its condition was false. */
#define DYNAMODB_CONDITION_FAILED 1

/* The GetItem body for lease name (strongly consistent). Caller frees. 0 or -EINVAL. */
int dynamodb_get_lease_request(const char *table, const char *name, char **out, size_t *out_len);

/*
 * Parse a GetItem answer: *found false for {} (no such lease), else the
 * record. -EPROTO with diag (may be NULL) for a malformed record.
 */
int dynamodb_get_lease_parse(const char *body, size_t len, bool *found,
	struct dynamodb_lease_item *out, struct aws_error *diag);

/* The operation name and body of a conditional write; caller frees *out. 0 or -EINVAL. */
int dynamodb_lease_write_request(
	const struct dynamodb_lease_write *w, const char **operation, char **out, size_t *out_len);

/* The DescribeTable body. Caller frees. 0 or -EINVAL. */
int dynamodb_describe_table_request(const char *table, char **out, size_t *out_len);

/* Parse a DescribeTable answer. -EPROTO with diag (may be NULL) on anything unexpected. */
int dynamodb_describe_table_parse(
	const char *body, size_t len, struct dynamodb_table_info *out, struct aws_error *diag);

/* Whether a table's key schema is the one the lease needs ("lease", S, no sort key). */
bool dynamodb_table_fits_lease(const struct dynamodb_table_info *info);

/* A typed call in flight. */
struct dynamodb_call;

/* GetItem answered: err 0 with found/item, or err < 0 with error. Borrowed for the callback. */
typedef void (*dynamodb_get_cb)(int err, const struct aws_error *error, bool found,
	const struct dynamodb_lease_item *item, void *arg);

/*
 * A conditional write answered: 0 written, DYNAMODB_CONDITION_FAILED refused,
 * or a negative errno with error.
 */
typedef void (*dynamodb_write_cb)(int result, const struct aws_error *error, void *arg);

/* DescribeTable answered: err 0 with info, or err < 0 with error. */
typedef void (*dynamodb_table_cb)(
	int err, const struct aws_error *error, const struct dynamodb_table_info *info, void *arg);

/* Read lease name. 0 and cb later, or a negative errno and no callback. */
int dynamodb_get_lease(struct aws_client *client, const char *table, const char *name,
	dynamodb_get_cb cb, void *arg, struct dynamodb_call **out);

/* Make one conditional write. 0 and cb later, or a negative errno and no callback. */
int dynamodb_write_lease(struct aws_client *client, const struct dynamodb_lease_write *w,
	dynamodb_write_cb cb, void *arg, struct dynamodb_call **out);

/* Describe table. 0 and cb later, or a negative errno and no callback. */
int dynamodb_describe_table(struct aws_client *client, const char *table, dynamodb_table_cb cb,
	void *arg, struct dynamodb_call **out);

/* Cancel a call in flight; its callback never runs. */
void dynamodb_call_cancel(struct dynamodb_call *call);

#endif

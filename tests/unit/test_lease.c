/*
 * Unit tests of the HA lease state machine (qscale/lease.h), with time as an
 * argument: acquiring a free lease, renewing, the exact instant a holder
 * stops acting, a contender's wait for one version unchanged for a full
 * duration (the longer of its own and the record's), a version change
 * restarting that wait, a refused renewal stopping at once, a lost answer
 * settled by reading back, release. Then a randomised model: two daemons and
 * a linearisable store with random delays, lost answers and pauses, checked
 * at every millisecond that no two daemons may act at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/lease.h"

static const struct lease_params params = {
	.duration_ms = 20000,
	.renew_ms = 5000,
	.margin_ms = 5000,
};

/* A record held by holder at version. */
static struct dynamodb_lease_item record(const char *holder, const char *version, int64_t dur)
{
	struct dynamodb_lease_item it = {.duration_ms = dur};

	snprintf(it.holder, sizeof(it.holder), "%s", holder);
	snprintf(it.version, sizeof(it.version), "%s", version);
	return it;
}

/* Drive l from nothing to holder with a create sent at t. */
static void acquire(struct lease *l, uint64_t t)
{
	struct dynamodb_lease_item item;

	assert_int_equal(lease_next(l, t), LEASE_READ);
	lease_begin_read(l);
	assert_int_equal(lease_next(l, t), LEASE_WAIT);
	lease_read_done(l, t, 0, false, NULL);
	assert_int_equal(lease_next(l, t), LEASE_CREATE);
	lease_begin_write(l, LEASE_CREATE, "v1", t, 123, &item);
	assert_string_equal(item.holder, "me");
	assert_string_equal(item.version, "v1");
	assert_int_equal(item.duration_ms, 20000);
	assert_false(lease_may_act(l, t));
	lease_write_done(l, t + 40, 0);
}

static void test_acquire_renew_expire(void **state)
{
	struct lease l;
	struct dynamodb_lease_item item;

	(void)state;
	lease_init(&l, &params, "me", 1000);
	assert_int_equal(lease_next(&l, 999), LEASE_WAIT);
	acquire(&l, 1000);
	/* Valid from the send, not the answer: 1000 + 20000 - 5000. */
	assert_true(lease_may_act(&l, 1040));
	assert_true(lease_may_act(&l, 15999));
	assert_false(lease_may_act(&l, 16000));
	assert_int_equal(lease_wake_ms(&l, 1040), 6000);
	assert_int_equal(lease_next(&l, 5999), LEASE_WAIT);
	assert_int_equal(lease_next(&l, 6000), LEASE_RENEW);
	lease_begin_write(&l, LEASE_RENEW, "v2", 6000, 0, &item);
	/* While the renewal is in flight the old validity still counts. */
	assert_true(lease_may_act(&l, 15999));
	assert_int_equal(lease_wake_ms(&l, 7000), 16000);
	lease_write_done(&l, 6100, 0);
	assert_string_equal(l.version, "v2");
	assert_true(lease_may_act(&l, 20999));
	assert_false(lease_may_act(&l, 21000));
	assert_int_equal(l.renewals, 2);
}

static void test_contender_waits_full_duration(void **state)
{
	struct lease l;
	struct dynamodb_lease_item other = record("other", "a", 20000), item;

	(void)state;
	lease_init(&l, &params, "me", 0);
	lease_begin_read(&l);
	lease_read_done(&l, 100, 0, true, &other);
	assert_false(lease_may_act(&l, 100));
	assert_int_equal(lease_next(&l, 5099), LEASE_WAIT);
	assert_int_equal(lease_next(&l, 5100), LEASE_READ);
	lease_begin_read(&l);
	lease_read_done(&l, 5100, 0, true, &other);
	lease_begin_read(&l);
	lease_read_done(&l, 15100, 0, true, &other);
	/* The next look is due exactly a duration after the first sighting. */
	assert_int_equal(lease_next(&l, 20099), LEASE_WAIT);
	assert_int_equal(lease_next(&l, 20100), LEASE_READ);
	lease_begin_read(&l);
	lease_read_done(&l, 20100, 0, true, &other);
	assert_int_equal(lease_next(&l, 20100), LEASE_TAKE_OVER);
	lease_begin_write(&l, LEASE_TAKE_OVER, "b", 20100, 0, &item);
	assert_string_equal(l.seen_item.version, "a");
	lease_write_done(&l, 20150, 0);
	assert_true(lease_may_act(&l, 20150));
}

static void test_version_change_restarts_wait(void **state)
{
	struct lease l;
	struct dynamodb_lease_item a = record("other", "a", 20000), b = record("other", "b", 20000);

	(void)state;
	lease_init(&l, &params, "me", 0);
	lease_begin_read(&l);
	lease_read_done(&l, 0, 0, true, &a);
	lease_begin_read(&l);
	lease_read_done(&l, 19000, 0, true, &b);
	lease_begin_read(&l);
	lease_read_done(&l, 20000, 0, true, &b);
	assert_int_equal(lease_next(&l, 20000), LEASE_WAIT);
	assert_int_equal(l.seen_since_ms, 19000);
	lease_begin_read(&l);
	lease_read_done(&l, 39000, 0, true, &b);
	assert_int_equal(lease_next(&l, 39000), LEASE_TAKE_OVER);
}

static void test_record_duration_longer(void **state)
{
	struct lease l;
	struct dynamodb_lease_item a = record("other", "a", 60000);

	(void)state;
	lease_init(&l, &params, "me", 0);
	lease_begin_read(&l);
	lease_read_done(&l, 0, 0, true, &a);
	lease_begin_read(&l);
	lease_read_done(&l, 20000, 0, true, &a);
	assert_int_equal(lease_next(&l, 20000), LEASE_WAIT);
	lease_begin_read(&l);
	lease_read_done(&l, 60000, 0, true, &a);
	assert_int_equal(lease_next(&l, 60000), LEASE_TAKE_OVER);
}

static void test_refused_renewal_stops_at_once(void **state)
{
	struct lease l;
	struct dynamodb_lease_item item, other = record("other", "x", 20000);

	(void)state;
	lease_init(&l, &params, "me", 0);
	acquire(&l, 0);
	lease_begin_write(&l, LEASE_RENEW, "v2", 5000, 0, &item);
	lease_write_done(&l, 5050, DYNAMODB_CONDITION_FAILED);
	assert_false(lease_may_act(&l, 5050));
	assert_int_equal(lease_next(&l, 5050), LEASE_READ);
	lease_begin_read(&l);
	lease_read_done(&l, 5100, 0, true, &other);
	assert_false(lease_may_act(&l, 5100));
	assert_int_equal(lease_next(&l, 5100), LEASE_WAIT);
}

static void test_lost_answer_settled_by_reading(void **state)
{
	struct lease l;
	struct dynamodb_lease_item item, mine;

	(void)state;
	lease_init(&l, &params, "me", 0);
	acquire(&l, 0);
	lease_begin_write(&l, LEASE_RENEW, "v2", 5000, 0, &item);
	lease_write_done(&l, 6000, -110);
	/* No answer: keep acting on the old validity, look again soon. */
	assert_true(lease_may_act(&l, 14999));
	assert_false(lease_may_act(&l, 15000));
	assert_int_equal(l.failures, 1);
	assert_int_equal(lease_next(&l, 8500), LEASE_READ);
	lease_begin_read(&l);
	mine = record("me", "v2", 20000);
	lease_read_done(&l, 8600, 0, true, &mine);
	/* The write had landed: valid from its send. */
	assert_true(lease_may_act(&l, 19999));
	assert_false(lease_may_act(&l, 20000));
	assert_int_equal(lease_next(&l, 10000), LEASE_RENEW);

	/* A refused write of ours whose earlier attempt landed is ours too. */
	lease_begin_write(&l, LEASE_RENEW, "v3", 10000, 0, &item);
	lease_write_done(&l, 10100, DYNAMODB_CONDITION_FAILED);
	assert_false(lease_may_act(&l, 10100));
	lease_begin_read(&l);
	mine = record("me", "v3", 20000);
	lease_read_done(&l, 10200, 0, true, &mine);
	assert_true(lease_may_act(&l, 24999));
	assert_false(lease_may_act(&l, 25000));
}

static void test_stale_own_record_is_waited_out(void **state)
{
	struct lease l;
	struct dynamodb_lease_item old = record("me", "old", 20000);

	(void)state;
	/* A restart with the same identity: the record of the last life is not ours. */
	lease_init(&l, &params, "me", 0);
	lease_begin_read(&l);
	lease_read_done(&l, 0, 0, true, &old);
	assert_false(lease_may_act(&l, 0));
	assert_int_equal(lease_next(&l, 0), LEASE_WAIT);
}

static void test_release(void **state)
{
	struct lease l;
	const char *version, *alt;
	struct dynamodb_lease_item item;

	(void)state;
	lease_init(&l, &params, "me", 0);
	acquire(&l, 0);
	assert_true(lease_release(&l, &version, &alt));
	assert_string_equal(version, "v1");
	assert_null(alt);
	assert_false(lease_may_act(&l, 1));
	assert_int_equal(lease_next(&l, 100000), LEASE_WAIT);
	assert_false(lease_release(&l, &version, &alt));
	/* With a renewal in flight, either version may be in the table. */
	lease_init(&l, &params, "me", 0);
	acquire(&l, 0);
	lease_begin_write(&l, LEASE_RENEW, "v2", 5000, 0, &item);
	assert_true(lease_release(&l, &version, &alt));
	assert_string_equal(version, "v1");
	assert_string_equal(alt, "v2");
	assert_string_equal(lease_action_name(LEASE_TAKE_OVER), "take_over");
}

/* The model's store: one record, writes applied when they land. */
struct store {
	bool present;
	struct dynamodb_lease_item item;
};

/* One daemon of the model and its call in flight. */
struct node {
	struct lease lease;
	bool inflight;
	enum lease_action action;
	uint64_t land_ms, answer_ms; /* the store applies at land, the daemon hears at answer */
	bool lose_answer;
	bool landed;
	int result;
	bool found;
	struct dynamodb_lease_item item, read;
	uint64_t paused_until;
	unsigned n_versions;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Apply a call at the store, as DynamoDB's conditions would. */
static void land(struct store *st, struct node *n)
{
	const struct dynamodb_lease_item *it = &n->item;

	n->result = 0;
	switch (n->action) {
	case LEASE_READ:
		n->found = st->present;
		n->read = st->item;
		return;
	case LEASE_CREATE:
		if (st->present)
			n->result = DYNAMODB_CONDITION_FAILED;
		break;
	case LEASE_TAKE_OVER:
		if (!st->present || strcmp(st->item.version, n->lease.seen_item.version) != 0)
			n->result = DYNAMODB_CONDITION_FAILED;
		break;
	case LEASE_RENEW:
		if (!st->present || strcmp(st->item.holder, n->lease.identity) != 0 ||
			strcmp(st->item.version, n->lease.version) != 0)
			n->result = DYNAMODB_CONDITION_FAILED;
		break;
	case LEASE_WAIT:
		return;
	}
	if (n->result == 0) {
		st->present = true;
		st->item = *it;
	}
}

/* One millisecond of one daemon. */
static void step(struct store *st, struct node *n, uint64_t t, uint64_t *seed)
{
	/* A request already sent lands even while its sender is paused. */
	if (n->inflight && !n->landed && t >= n->land_ms) {
		land(st, n);
		n->landed = true;
	}
	if (t < n->paused_until)
		return;
	if (n->inflight) {
		if (t >= n->answer_ms && (n->landed || n->lose_answer)) {
			n->inflight = false;
			int r = n->lose_answer ? -110 : n->result;

			if (n->action == LEASE_READ)
				lease_read_done(&n->lease, t, r, n->found, &n->read);
			else
				lease_write_done(&n->lease, t, r);
		}
		return;
	}
	enum lease_action a = lease_next(&n->lease, t);
	char version[32];

	if (a == LEASE_WAIT)
		return;
	n->inflight = true;
	n->landed = false;
	n->result = 0;
	n->action = a;
	n->land_ms = t + rnd(seed) % 400;
	n->answer_ms = n->land_ms + rnd(seed) % 400;
	/* One answer in eight is lost: the call may or may not have landed. */
	n->lose_answer = rnd(seed) % 8 == 0;
	if (n->lose_answer && rnd(seed) % 2 == 0)
		n->land_ms = UINT64_MAX; /* never landed */
	if (a == LEASE_READ) {
		lease_begin_read(&n->lease);
	} else {
		snprintf(version, sizeof(version), "%.8s-%u", n->lease.identity, ++n->n_versions);
		lease_begin_write(&n->lease, a, version, t, 0, &n->item);
	}
	if (n->land_ms == UINT64_MAX)
		n->answer_ms = t + 1000;
	/* Now and then a daemon is paused for up to twice the lease. */
	if (rnd(seed) % 200 == 0)
		n->paused_until = t + rnd(seed) % (2 * params.duration_ms);
}

static void test_model_never_two_actors(void **state)
{
	(void)state;
	for (uint64_t run = 1; run <= 20; run++) {
		uint64_t seed = 0x9e3779b97f4a7c15ull * run;
		struct store st = {0};
		struct node nodes[2] = {0};
		uint64_t acted[2] = {0}, switches = 0;
		int last = -1;

		lease_init(&nodes[0].lease, &params, "a", 0);
		lease_init(&nodes[1].lease, &params, "b", rnd(&seed) % 3000);
		for (uint64_t t = 0; t < 600000; t++) {
			int acting = 0, who = -1;

			for (int i = 0; i < 2; i++)
				step(&st, &nodes[i], t, &seed);
			for (int i = 0; i < 2; i++) {
				/* A paused daemon acts on waking only if its lease says so. */
				if (t >= nodes[i].paused_until &&
					lease_may_act(&nodes[i].lease, t)) {
					acting++;
					who = i;
					acted[i]++;
				}
			}
			if (acting > 1)
				fail_msg("run %llu: both act at %llu ms", (unsigned long long)run,
					(unsigned long long)t);
			if (who >= 0 && who != last) {
				switches++;
				last = who;
			}
		}
		/* The model must exercise takeovers, not only one steady leader. */
		assert_true(acted[0] + acted[1] > 300000);
		assert_true(switches >= 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acquire_renew_expire),
		cmocka_unit_test(test_contender_waits_full_duration),
		cmocka_unit_test(test_version_change_restarts_wait),
		cmocka_unit_test(test_record_duration_longer),
		cmocka_unit_test(test_refused_renewal_stops_at_once),
		cmocka_unit_test(test_lost_answer_settled_by_reading),
		cmocka_unit_test(test_stale_own_record_is_waited_out),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_model_never_two_actors),
	};

	return cmocka_run_group_tests_name("lease", tests, NULL, NULL);
}

/*
 * Test helpers for the AWS parsers: load a response fixture from
 * $QSCALE_TEST_DATA/aws/, and build hostile bodies in memory.
 */
#ifndef QSCALE_TEST_AWS_FIXTURE_H
#define QSCALE_TEST_AWS_FIXTURE_H

#include <stddef.h>

/* The bytes of tests/data/aws/<name> in fresh memory (NUL-terminated); fails the test if absent. */
char *fixture_load(const char *name, size_t *len);

/* A body nesting depth arrays inside {"a": ...}; the caller frees it. */
char *fixture_deep(size_t depth, size_t *len);

/* {"<key>":[ "x", "x", ... ]} of at least min_len bytes; the caller frees it. */
char *fixture_huge_array(const char *key, size_t min_len, size_t *len);

#endif

/*
 * Test helpers for tests that write files: a fresh folder, and its removal.
 */
#ifndef QSCALE_TEST_TMPDIR_FIXTURE_H
#define QSCALE_TEST_TMPDIR_FIXTURE_H

/* A fresh folder under TMPDIR (or /tmp) named after the test; free with fixture_remove_tree. */
char *fixture_tmpdir(const char *test);

/* Remove a folder of files and FIFOs, one level of subfolders deep, and free dir. */
void fixture_remove_tree(char *dir);

#endif

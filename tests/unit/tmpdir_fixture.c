/*
 * Test helpers for tests that write files (tmpdir_fixture.h).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "qscale/xalloc.h"
#include "tmpdir_fixture.h"

char *fixture_tmpdir(const char *test)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/qscale-test-%s-XXXXXX", tmp != NULL ? tmp : "/tmp", test);

	assert_non_null(mkdtemp(dir));
	return dir;
}

void fixture_remove_tree(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char *path;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (unlink(path) < 0)
			fixture_remove_tree(path);
		else
			free(path);
	}
	closedir(d);
	rmdir(dir);
	free(dir);
}

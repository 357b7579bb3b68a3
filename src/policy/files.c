/*
 * The loader's file access: reading one YAML file through the shared
 * hardened reader (qscale/file.h: regular files only, size cap, no wait on a
 * FIFO) and listing the *.yaml files of policies_dir in a stable order.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_priv.h"
#include "qscale/file.h"
#include "qscale/xalloc.h"

/* Fill diag with a file-level error and pass err through. */
static int fail_file(struct diag *diag, const char *path, int err, const char *what)
{
	diag_set(diag, path, 0, 0, "%s: %s", what, strerror(-err));
	return err;
}

int policy_read_file(const char *path, char **out, size_t *len_out, struct diag *diag)
{
	struct file_data d;
	char why[FILE_WHY_MAX];
	int r = file_read(path, POLICY_MAX_FILE_BYTES, 0, &d, why, sizeof(why));

	if (r < 0) {
		diag_set(diag, path, 0, 0, "%s", why);
		return r;
	}
	*out = d.data;
	*len_out = d.len;
	return 0;
}

/* qsort comparison of two strings. */
static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a directory entry names a policy file: visible, ending in ".yaml". */
static bool is_policy_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".yaml") == 0;
}

int policy_list_dir(const char *dir, char ***out, size_t *count_out, struct diag *diag)
{
	DIR *d = opendir(dir);
	char **list = NULL;
	size_t count = 0;
	struct dirent *de;
	int r = 0;

	if (d == NULL)
		return fail_file(diag, dir, -errno, "cannot open policies_dir");
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!is_policy_name(de->d_name))
			continue;
		if (count == POLICY_MAX_POLICIES) {
			diag_set(diag, dir, 0, 0, "more than %d policy files", POLICY_MAX_POLICIES);
			r = -E2BIG;
			break;
		}
		list = xreallocarray(list, count + 2, sizeof(*list));
		list[count++] = xasprintf("%s/%s", dir, de->d_name);
		list[count] = NULL;
		errno = 0;
	}
	if (r == 0 && errno != 0)
		r = fail_file(diag, dir, -errno, "cannot list policies_dir");
	closedir(d);
	if (r < 0) {
		policy_free_list(list);
		return r;
	}
	if (list == NULL)
		list = xcalloc(1, sizeof(*list));
	qsort(list, count, sizeof(*list), compare_names);
	*out = list;
	*count_out = count;
	return 0;
}

void policy_free_list(char **list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

/*
 * The loader's file access: reading one YAML file with a size cap (only
 * regular files, so a FIFO or /dev/zero cannot hang or flood it) and listing
 * the *.yaml files of policies_dir in a stable order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_priv.h"
#include "qscale/xalloc.h"

/* Fill diag with a file-level error and pass err through. */
static int fail_file(struct diag *diag, const char *path, int err, const char *what)
{
	diag_set(diag, path, 0, 0, "%s: %s", what, strerror(-err));
	return err;
}

int policy_read_file(const char *path, char **out, size_t *len_out, struct diag *diag)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	char *data;
	size_t len = 0;

	if (fd < 0)
		return fail_file(diag, path, -errno, "cannot open");
	if (fstat(fd, &st) < 0) {
		int err = -errno;

		close(fd);
		return fail_file(diag, path, err, "cannot stat");
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return fail_file(diag, path, -EISDIR, "cannot read");
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		diag_set(diag, path, 0, 0, "not a regular file");
		return -EINVAL;
	}
	if (st.st_size > POLICY_MAX_FILE_BYTES) {
		close(fd);
		diag_set(diag, path, 0, 0, "file larger than %d bytes", POLICY_MAX_FILE_BYTES);
		return -EFBIG;
	}
	/* One byte more than the cap tells a file that grew since fstat. */
	data = xmalloc(POLICY_MAX_FILE_BYTES + 2);
	for (;;) {
		ssize_t n = read(fd, data + len, POLICY_MAX_FILE_BYTES + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			close(fd);
			free(data);
			return fail_file(diag, path, err, "cannot read");
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > POLICY_MAX_FILE_BYTES) {
			close(fd);
			free(data);
			diag_set(diag, path, 0, 0, "file larger than %d bytes",
				POLICY_MAX_FILE_BYTES);
			return -EFBIG;
		}
	}
	close(fd);
	data[len] = '\0';
	*out = xrealloc(data, len + 1);
	*len_out = len;
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

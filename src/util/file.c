/*
 * The hardened file reader (see qscale/file.h). Every check is made on the
 * descriptor that is then read, so the file cannot be swapped between the
 * check and the read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qscale/file.h"
#include "qscale/xalloc.h"

/* Chunk read at a time when the size is not known in advance. */
#define READ_CHUNK 65536

/* Write a reason when the caller wants one. */
static void say(char *why, size_t why_len, const char *text)
{
	if (why != NULL && why_len > 0)
		snprintf(why, why_len, "%s", text);
}

const char *file_kind_name(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a regular file";
}

int file_open(const char *path, size_t max_bytes, int *fd_out, struct stat *st_out, char *why,
	size_t why_len)
{
	char text[FILE_WHY_MAX];
	struct stat st;
	int fd, err;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		err = -errno;
		snprintf(text, sizeof(text), "cannot open: %s", strerror(-err));
		say(why, why_len, text);
		return err == -ENOTDIR ? -ENOENT : err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		close(fd);
		snprintf(text, sizeof(text), "cannot stat: %s", strerror(-err));
		say(why, why_len, text);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(text, sizeof(text), "not a regular file (%s)", file_kind_name(st.st_mode));
		say(why, why_len, S_ISDIR(st.st_mode) ? "cannot read: Is a directory" : text);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	if (max_bytes > 0 && (unsigned long long)st.st_size > max_bytes) {
		close(fd);
		snprintf(text, sizeof(text), "file larger than %zu bytes", max_bytes);
		say(why, why_len, text);
		return -EFBIG;
	}
	*fd_out = fd;
	if (st_out != NULL)
		*st_out = st;
	return 0;
}

/* Drop a buffer, wiping it first when it held a secret. */
static void drop(char *data, size_t cap, bool secret)
{
	if (data != NULL && secret)
		secure_wipe(data, cap);
	free(data);
}

/* Read fd to its end into a buffer of at most max bytes (+1 for the NUL). */
static int read_all(int fd, size_t max, bool secret, char **out, size_t *len_out)
{
	size_t len = 0, cap = 0;
	char *data = NULL;

	for (;;) {
		if (len == cap) {
			/* One byte more than the cap tells a file that grew since fstat. */
			size_t want = cap == 0 ? READ_CHUNK : cap * 2;
			char *bigger;

			if (want > max + 1)
				want = max + 1;
			if (want <= len) {
				drop(data, cap, secret);
				return -EFBIG;
			}
			bigger = xmalloc(want + 1);
			if (len > 0)
				memcpy(bigger, data, len);
			drop(data, cap, secret);
			data = bigger;
			cap = want;
		}
		ssize_t n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			drop(data, cap, secret);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			drop(data, cap, secret);
			return -EFBIG;
		}
	}
	if (data == NULL)
		data = xmalloc(1);
	data[len] = '\0';
	*out = data;
	*len_out = len;
	return 0;
}

int file_read(const char *path, size_t max_bytes, unsigned flags, struct file_data *out, char *why,
	size_t why_len)
{
	struct file_data d = {.secret = (flags & FILE_SECRET) != 0};
	char text[FILE_WHY_MAX];
	int fd, r;

	if (max_bytes == 0)
		return -EINVAL;
	r = file_open(path, max_bytes, &fd, &d.st, why, why_len);
	if (r < 0)
		return r;
	r = read_all(fd, max_bytes, d.secret, &d.data, &d.len);
	close(fd);
	if (r == -EFBIG) {
		snprintf(text, sizeof(text), "file larger than %zu bytes", max_bytes);
		say(why, why_len, text);
	} else if (r < 0) {
		snprintf(text, sizeof(text), "cannot read: %s", strerror(-r));
		say(why, why_len, text);
	}
	if (r < 0)
		return r;
	*out = d;
	return 0;
}

void file_data_finish(struct file_data *d)
{
	if (d->data != NULL && d->secret)
		secure_wipe(d->data, d->len);
	free(d->data);
	d->data = NULL;
	d->len = 0;
}

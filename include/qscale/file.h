/*
 * The one way qscale opens a file it reads: configuration and policies,
 * scenarios and traces, the AWS shared config and credentials files, token
 * files and the CA bundle. Opening never waits (O_NONBLOCK, so a FIFO put in
 * place of a file cannot freeze the event loop), only regular files are
 * accepted (no FIFO, device, socket or directory), every read is capped, and
 * a failure comes with a short reason the caller prints next to the path.
 */
#ifndef QSCALE_FILE_H
#define QSCALE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Room for a reason such as "not a regular file (a FIFO)". */
#define FILE_WHY_MAX 96

/* Flags for file_read. */
#define FILE_SECRET 0x1u /* wipe every copy of the bytes (credentials, tokens) */

/* A file's contents, NUL-terminated, and what fstat said of it when read. */
struct file_data {
	char *data;
	size_t len;
	struct stat st;
	bool secret;
};

/*
 * Open path for reading without blocking, and only if it is a regular file
 * of at most max_bytes (0: no size cap, for streamed files such as traces).
 * 0 with *fd_out (O_CLOEXEC) and *st_out (may be NULL) set; else -ENOENT,
 * -EACCES... from open, -EISDIR, -EINVAL (not a regular file) or -EFBIG, with
 * a reason in why (may be NULL) that does not repeat the path.
 */
int file_open(const char *path, size_t max_bytes, int *fd_out, struct stat *st_out, char *why,
	size_t why_len);

/*
 * Read a whole file of at most max_bytes through file_open. 0 with *out
 * filled (free with file_data_finish); the errors of file_open, or the
 * negative errno of read, or -EFBIG when it grew past max_bytes while read.
 */
int file_read(const char *path, size_t max_bytes, unsigned flags, struct file_data *out, char *why,
	size_t why_len);

/* Free (and for FILE_SECRET wipe) the contents; accepts a zeroed struct. */
void file_data_finish(struct file_data *d);

/* The kind of a non-regular file for messages: "a FIFO", "a directory"... */
const char *file_kind_name(mode_t mode);

#endif

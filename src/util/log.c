/*
 * Logging to stderr. Lines are written whole with one write(2) so that
 * journald and pipes never see two messages interleaved. Under journald
 * (JOURNAL_STREAM set) each line starts with "<N>", the syslog priority.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "qscale/buf.h"
#include "qscale/log.h"

#define LOG_LINE_MAX 8192

static const char *log_progname = "qscale";
static enum log_level log_threshold = LOG_LEVEL_INFO;
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static bool log_journal;
static log_sink_cb log_sink;
static void *log_sink_arg;

void log_init(const char *progname)
{
	const char *stream = getenv("JOURNAL_STREAM");

	if (progname != NULL)
		log_progname = progname;
	log_journal = stream != NULL && *stream != '\0';
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

void log_set_format(enum log_format format)
{
	log_fmt = format;
}

void log_set_sink(log_sink_cb sink, void *arg)
{
	log_sink = sink;
	log_sink_arg = arg;
}

bool log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

int log_level_parse(const char *text, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
		{"error", LOG_LEVEL_ERROR},
		{"warn", LOG_LEVEL_WARN},
		{"warning", LOG_LEVEL_WARN},
		{"info", LOG_LEVEL_INFO},
		{"debug", LOG_LEVEL_DEBUG},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(text, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

int log_format_parse(const char *text, enum log_format *out)
{
	if (strcmp(text, "text") == 0) {
		*out = LOG_FORMAT_TEXT;
		return 0;
	}
	if (strcmp(text, "json") == 0) {
		*out = LOG_FORMAT_JSON;
		return 0;
	}
	return -EINVAL;
}

static const char *level_name(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR:
		return "error";
	case LOG_LEVEL_WARN:
		return "warn";
	case LOG_LEVEL_INFO:
		return "info";
	case LOG_LEVEL_DEBUG:
		return "debug";
	}
	return "info";
}

/* Append s as the inside of a JSON string. */
static void json_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)c);
		} else if (c == '\n') {
			buf_puts(b, "\\n");
		} else if (c == '\t') {
			buf_puts(b, "\\t");
		} else if (c < 0x20) {
			buf_printf(b, "\\u%04x", c);
		} else {
			buf_putc(b, (char)c);
		}
	}
}

/* Whether c may stand unquoted in a value. */
static bool plain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		strchr("-._:/@+,", c) != NULL;
}

/* Append the escaped form of c to out[*n], if it fits before size - reserve. */
static bool put_escaped(char *out, size_t size, size_t reserve, size_t *n, unsigned char c)
{
	char tmp[5];
	size_t len;

	if (c == '"' || c == '\\') {
		tmp[0] = '\\';
		tmp[1] = (char)c;
		len = 2;
	} else if (c == '\n' || c == '\r') {
		tmp[0] = ' ';
		len = 1;
	} else if (c < 0x20 || c == 0x7f) {
		snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		len = 4;
	} else {
		tmp[0] = (char)c;
		len = 1;
	}
	if (*n + len + reserve >= size)
		return false;
	memcpy(out + *n, tmp, len);
	*n += len;
	return true;
}

const char *log_escape(char *out, size_t size, const char *text)
{
	size_t n = 0;

	if (size == 0)
		return out;
	for (; text != NULL && *text != '\0'; text++)
		if (!put_escaped(out, size, 0, &n, (unsigned char)*text))
			break;
	out[n] = '\0';
	return out;
}

const char *log_quote(char *out, size_t size, const char *text)
{
	bool plain = text != NULL && *text != '\0';
	size_t n = 0;

	if (size < 8) {
		if (size > 0)
			out[0] = '\0';
		return out;
	}
	for (const char *p = text; plain && *p != '\0'; p++)
		plain = plain_char((unsigned char)*p);
	if (plain && strlen(text) < size) {
		memcpy(out, text, strlen(text) + 1);
		return out;
	}
	out[n++] = '"';
	for (; text != NULL && *text != '\0'; text++) {
		/* Keep room for a cut mark and the closing quote. */
		if (!put_escaped(out, size, 5, &n, (unsigned char)*text)) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
	return out;
}

/* Append a text line with its control bytes (say ESC, BEL) written \xNN. */
static void text_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, (char)c);
	}
}

static void write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	struct buf line;
	int saved_errno = errno;

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One message is one line: a newline inside would split a journal entry. */
	for (char *p = msg; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}

	buf_init(&line, LOG_LINE_MAX * 2);
	if (log_journal)
		buf_printf(&line, "<%d>", (int)level);
	if (log_fmt == LOG_FORMAT_JSON) {
		struct timeval tv;
		struct tm tm;

		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		buf_printf(&line,
			"{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"level\":\"%s\","
			"\"msg\":\"",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			tm.tm_sec, (int)(tv.tv_usec / 1000), level_name(level));
		json_escape(&line, msg);
		buf_puts(&line, "\"}");
	} else if (log_journal) {
		text_escape(&line, msg);
	} else {
		buf_printf(&line, "%s: %s: ", log_progname, level_name(level));
		text_escape(&line, msg);
	}

	if (log_sink != NULL) {
		log_sink(level, buf_cstr(&line), log_sink_arg);
	} else {
		buf_putc(&line, '\n');
		write_all(STDERR_FILENO, line.data, line.len);
	}
	buf_finish(&line);
	errno = saved_errno;
}

bool log_ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ms, unsigned long *suppressed)
{
	if (rl->any && now_ms - rl->last_ms < rl->interval_ms) {
		rl->suppressed++;
		return false;
	}
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	rl->any = true;
	rl->last_ms = now_ms;
	return true;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

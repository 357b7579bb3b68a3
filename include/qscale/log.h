/*
 * Logging: one small printf-checked API writing key=value lines to stderr.
 * Under systemd (JOURNAL_STREAM set) each line carries a "<N>" priority prefix
 * that journald turns into the entry's priority; with log.format json each line
 * is one JSON object.
 */
#ifndef QSCALE_LOG_H
#define QSCALE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Levels are syslog priorities so they map 1:1 onto journald's. */
enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARN = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};

/* Set the program name and detect journald from JOURNAL_STREAM. */
void log_init(const char *progname);

/* Drop messages less severe than level. */
void log_set_level(enum log_level level);

/* Choose text or JSON lines. */
void log_set_format(enum log_format format);

/* Whether a message at level would be written. */
bool log_enabled(enum log_level level);

/* Parse "error", "warn", "info" or "debug"; 0 or -EINVAL. */
int log_level_parse(const char *text, enum log_level *out);

/* Parse "text" or "json"; 0 or -EINVAL. */
int log_format_parse(const char *text, enum log_format *out);

/* Send lines to a callback instead of stderr (tests); NULL restores stderr. */
typedef void (*log_sink_cb)(enum log_level level, const char *line, void *arg);
void log_set_sink(log_sink_cb sink, void *arg);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
/*
 * Debug lines are off unless asked for, info lines too at log.level warn,
 * and their arguments often quote values (LOG_Q clears and fills a buffer
 * each): the level is checked before the arguments are evaluated, so they
 * must have no side effects.
 */
#define log_info(...) \
	do { \
		if (log_enabled(LOG_LEVEL_INFO)) \
			log_msg(LOG_LEVEL_INFO, __VA_ARGS__); \
	} while (0)
#define log_debug(...) \
	do { \
		if (log_enabled(LOG_LEVEL_DEBUG)) \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); \
	} while (0)

/*
 * Values in text lines. Whatever came from outside (a response header, an
 * AWS error message, a file's contents) goes through one of these, so that it
 * can neither add fields (a space and "policy=") nor carry terminal control
 * sequences: quotes and backslashes get a backslash, control bytes and DEL
 * become \xNN, CR and LF a space. Text lines get the same control-byte
 * escaping as a last resort, as JSON lines get JSON's.
 */
#define LOG_VALUE_MAX 512

/* The escaped inside of a quoted value (the caller writes the quotes); out. */
const char *log_escape(char *out, size_t size, const char *text);

/*
 * text as a value: unchanged when it is a plain token (letters, digits and
 * -._:/@+,), else escaped within double quotes; cut to fit size; out.
 */
const char *log_quote(char *out, size_t size, const char *text);

/* log_quote into a buffer that lives until the end of the enclosing block. */
#define LOG_Q(text) log_quote((char[LOG_VALUE_MAX]){0}, LOG_VALUE_MAX, (text))

/*
 * At most one message per interval for a failure that may repeat at the
 * rate of a peer's choosing (accept() without descriptors): the first is
 * logged, the rest counted and reported with the next one logged.
 */
struct log_ratelimit {
	uint64_t interval_ms;
	uint64_t last_ms;
	bool any; /* a message was logged */
	unsigned long suppressed;
};

/* Whether to log now (monotonic now_ms); if so, *suppressed gets the count dropped since. */
bool log_ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ms, unsigned long *suppressed);

/* Log at error level and exit with status 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

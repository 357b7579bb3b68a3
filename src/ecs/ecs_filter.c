/*
 * The ECS cluster query language subset (see include/qscale/ecs_filter.h): a
 * small lexer over printable ASCII, a recursive-descent parser into a flat list
 * of terms that are all ANDed, and the evaluator. Every rejection names the
 * 1-based column of the offending token.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/ecs_filter.h"
#include "qscale/xalloc.h"

/* ECS limits attribute names to 128 characters. */
#define ATTRIBUTE_NAME_MAX 128

/* Longest token quoted back in a message. */
#define QUOTE_MAX 40

enum subject {
	SUBJECT_ATTRIBUTE,
	SUBJECT_AGENT_CONNECTED,
	SUBJECT_EC2_INSTANCE_ID,
};

enum op {
	OP_EQ,
	OP_NE,
	OP_EXISTS,
	OP_NOT_EXISTS,
	OP_IN,
};

struct term {
	enum subject subject;
	enum op op;
	char *name; /* attribute name, SUBJECT_ATTRIBUTE only */
	char **values;
	size_t value_count;
	bool flag; /* agentConnected's value */
};

struct ecs_filter {
	char *text;
	struct term *terms;
	size_t term_count;
};

enum token_kind {
	TOKEN_END,
	TOKEN_WORD,
	TOKEN_STRING, /* quoted: start/len cover the contents without the quotes */
	TOKEN_EQ,
	TOKEN_NE,
	TOKEN_AND,
	TOKEN_LBRACKET,
	TOKEN_RBRACKET,
	TOKEN_COMMA,
};

struct token {
	enum token_kind kind;
	size_t start; /* offset of the token's first byte (the quote for strings) */
	size_t text_start; /* offset of the text a word or string carries */
	size_t len;
};

struct parser {
	const char *text;
	size_t pos;
	struct token tok;
	struct ecs_filter_error *err;
};

/* Record an error at a 0-based offset; always returns -EINVAL. */
static int fail(struct parser *p, size_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, size_t offset, const char *fmt, ...)
{
	if (p->err != NULL) {
		va_list ap;

		p->err->column = (unsigned)offset + 1;
		va_start(ap, fmt);
		vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Characters that end a bare word. */
static bool is_word_char(char c)
{
	if (c <= ' ' || c >= 0x7f)
		return false;
	return strchr("\"'[](),=!&|<>~", c) == NULL;
}

/* A quoted value from start (its quote char); the token holds the text inside. */
static int quoted_token(struct parser *p, size_t start)
{
	const char *s = p->text;
	char quote = s[start];
	size_t end = start + 1;

	while (s[end] != '\0' && s[end] != quote) {
		if ((unsigned char)s[end] < ' ' || (unsigned char)s[end] >= 0x7f)
			return fail(p, end, "unexpected byte 0x%02x in a quoted value",
				(unsigned char)s[end]);
		end++;
	}
	if (s[end] == '\0')
		return fail(p, start, "unterminated quoted value");
	p->tok.kind = TOKEN_STRING;
	p->tok.text_start = start + 1;
	p->tok.len = end - start - 1;
	p->pos = end + 1;
	return 0;
}

/* A word from start, which may begin with '!' ("!exists", "!in"). */
static int word_token(struct parser *p, size_t start)
{
	size_t end = start + (p->text[start] == '!');

	while (is_word_char(p->text[end]))
		end++;
	p->tok.kind = TOKEN_WORD;
	p->tok.len = end - start;
	p->pos = end;
	return 0;
}

/* Operator c at start, with c2 the byte after it; an unsupported one is named. */
static int operator_token(struct parser *p, size_t start, char c, char c2)
{
	p->pos = start + 1;
	switch (c) {
	case '[':
		p->tok.kind = TOKEN_LBRACKET;
		return 0;
	case ']':
		p->tok.kind = TOKEN_RBRACKET;
		return 0;
	case ',':
		p->tok.kind = TOKEN_COMMA;
		return 0;
	case '=':
		if (c2 == '=') {
			p->tok.kind = TOKEN_EQ;
			p->pos = start + 2;
			return 0;
		}
		if (c2 == '~')
			return fail(p, start, "operator '=~' is not supported");
		return fail(p, start, "unexpected '=', did you mean '=='?");
	case '!':
		if (c2 == '=') {
			p->tok.kind = TOKEN_NE;
			p->pos = start + 2;
			return 0;
		}
		if (c2 == '~')
			return fail(p, start, "operator '!~' is not supported");
		return fail(p, start, "negation '!' is not supported");
	case '&':
		if (c2 == '&') {
			p->tok.kind = TOKEN_AND;
			p->pos = start + 2;
			return 0;
		}
		return fail(p, start, "unexpected '&', did you mean '&&'?");
	case '|':
		return fail(
			p, start, "'||' (or) is not supported; terms can only be joined by 'and'");
	case '<':
	case '>':
		return fail(p, start, "comparison operators are not supported");
	case '(':
	case ')':
		return fail(p, start, "parentheses are not supported");
	default:
		return fail(p, start, "unexpected byte 0x%02x", (unsigned char)c);
	}
}

/* Read the next token into p->tok, skipping blanks; 0 or -EINVAL with the diagnostic. */
static int next_token(struct parser *p)
{
	const char *s = p->text;
	size_t start;
	char c;

	while (s[p->pos] == ' ' || s[p->pos] == '\t')
		p->pos++;
	start = p->pos;
	c = s[start];
	p->tok.start = start;
	p->tok.text_start = start;
	p->tok.len = 0;
	if (c == '\0') {
		p->tok.kind = TOKEN_END;
		return 0;
	}
	if (c == '"' || c == '\'')
		return quoted_token(p, start);
	if (is_word_char(c) || (c == '!' && isalpha((unsigned char)s[start + 1])))
		return word_token(p, start);
	return operator_token(p, start, c, s[start + 1]);
}

/* Whether the current token is the bare word w. */
static bool tok_is_word(const struct parser *p, const char *w)
{
	size_t n = strlen(w);

	return p->tok.kind == TOKEN_WORD && p->tok.len == n &&
		memcmp(p->text + p->tok.start, w, n) == 0;
}

/* How many bytes of the current token to quote back in a message. */
static int quote_len(const struct parser *p)
{
	return (int)(p->tok.len > QUOTE_MAX ? QUOTE_MAX : p->tok.len);
}

/* A description of the current token for "found ..." messages. */
static int fail_found(struct parser *p, const char *expected)
{
	switch (p->tok.kind) {
	case TOKEN_END:
		return fail(p, p->tok.start, "expected %s, found the end of the filter", expected);
	case TOKEN_WORD:
	case TOKEN_STRING:
		return fail(p, p->tok.start, "expected %s, found '%.*s'", expected, quote_len(p),
			p->text + p->tok.text_start);
	case TOKEN_EQ:
		return fail(p, p->tok.start, "expected %s, found '=='", expected);
	case TOKEN_NE:
		return fail(p, p->tok.start, "expected %s, found '!='", expected);
	case TOKEN_AND:
		return fail(p, p->tok.start, "expected %s, found '&&'", expected);
	case TOKEN_LBRACKET:
		return fail(p, p->tok.start, "expected %s, found '['", expected);
	case TOKEN_RBRACKET:
		return fail(p, p->tok.start, "expected %s, found ']'", expected);
	case TOKEN_COMMA:
		return fail(p, p->tok.start, "expected %s, found ','", expected);
	}
	return fail(p, p->tok.start, "expected %s", expected);
}

/* Append the current word or string to the term's values and advance. */
static int take_value(struct parser *p, struct term *t)
{
	if (p->tok.kind != TOKEN_WORD && p->tok.kind != TOKEN_STRING)
		return fail_found(p, "a value");
	if (p->tok.len == 0)
		return fail(p, p->tok.start, "empty value");
	t->values = xreallocarray(t->values, t->value_count + 1, sizeof(*t->values));
	t->values[t->value_count++] = xstrndup(p->text + p->tok.text_start, p->tok.len);
	return next_token(p);
}

/* Parse "[a, b, ...]" into the term's values. */
static int parse_list(struct parser *p, struct term *t)
{
	int r;

	if (p->tok.kind != TOKEN_LBRACKET)
		return fail_found(p, "'[' starting a list");
	if ((r = next_token(p)) < 0)
		return r;
	if (p->tok.kind == TOKEN_RBRACKET)
		return fail(p, p->tok.start, "empty list");
	for (;;) {
		if ((r = take_value(p, t)) < 0)
			return r;
		if (p->tok.kind == TOKEN_RBRACKET)
			return next_token(p);
		if (p->tok.kind != TOKEN_COMMA)
			return fail_found(p, "',' or ']'");
		if ((r = next_token(p)) < 0)
			return r;
	}
}

/* Check an attribute name: ECS allows letters, digits, '-', '_', '.', '/', '\'. */
static int check_attribute_name(struct parser *p, size_t start, size_t len)
{
	if (len == 0)
		return fail(p, start, "empty attribute name after 'attribute:'");
	if (len > ATTRIBUTE_NAME_MAX)
		return fail(
			p, start, "attribute name longer than %d characters", ATTRIBUTE_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = p->text[start + i];

		if (!isalnum((unsigned char)c) && strchr("-_./\\", c) == NULL)
			return fail(p, start + i,
				"character '%c' is not allowed in an attribute name", c);
	}
	return 0;
}

/* Parse the subject word into t; the current token is that word. */
static int parse_subject(struct parser *p, struct term *t)
{
	static const char *const unsupported[] = {
		"agentVersion",
		"registeredAt",
		"runningTasksCount",
		"task:group",
	};
	static const char prefix[] = "attribute:";
	const char *w = p->text + p->tok.start;
	size_t n = p->tok.len;

	if (p->tok.kind != TOKEN_WORD)
		return fail_found(p, "a subject (attribute:NAME, agentConnected or ec2InstanceId)");
	if (n >= sizeof(prefix) - 1 && memcmp(w, prefix, sizeof(prefix) - 1) == 0) {
		size_t name_start = p->tok.start + sizeof(prefix) - 1;
		size_t name_len = n - (sizeof(prefix) - 1);
		int r = check_attribute_name(p, name_start, name_len);

		if (r < 0)
			return r;
		t->subject = SUBJECT_ATTRIBUTE;
		t->name = xstrndup(p->text + name_start, name_len);
		return 0;
	}
	if (tok_is_word(p, "agentConnected")) {
		t->subject = SUBJECT_AGENT_CONNECTED;
		return 0;
	}
	if (tok_is_word(p, "ec2InstanceId")) {
		t->subject = SUBJECT_EC2_INSTANCE_ID;
		return 0;
	}
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		if (tok_is_word(p, unsupported[i]))
			return fail(p, p->tok.start,
				"subject '%s' is not supported; use attribute:NAME, "
				"agentConnected or ec2InstanceId",
				unsupported[i]);
	}
	if (tok_is_word(p, "not") || w[0] == '!')
		return fail(p, p->tok.start, "negation ('not', '!') is not supported");
	return fail(p, p->tok.start,
		"unknown subject '%.*s'; use attribute:NAME, agentConnected or ec2InstanceId",
		quote_len(p), w);
}

/* Parse the operator and its argument for the subject already in t. */
static int parse_operator(struct parser *p, struct term *t)
{
	size_t op_start = p->tok.start;
	int r;

	if (p->tok.kind == TOKEN_EQ || tok_is_word(p, "equals"))
		t->op = OP_EQ;
	else if (p->tok.kind == TOKEN_NE)
		t->op = OP_NE;
	else if (tok_is_word(p, "exists"))
		t->op = OP_EXISTS;
	else if (tok_is_word(p, "!exists"))
		t->op = OP_NOT_EXISTS;
	else if (tok_is_word(p, "in"))
		t->op = OP_IN;
	else if (tok_is_word(p, "!in"))
		return fail(p, op_start, "operator '!in' is not supported");
	else
		return fail_found(p, "an operator (==, !=, exists, !exists, in)");

	if (t->subject == SUBJECT_AGENT_CONNECTED && t->op != OP_EQ)
		return fail(p, op_start, "agentConnected supports only '== true' or '== false'");
	if (t->subject == SUBJECT_EC2_INSTANCE_ID && t->op != OP_EQ && t->op != OP_IN)
		return fail(p, op_start, "ec2InstanceId supports only '==' and 'in'");
	if ((r = next_token(p)) < 0)
		return r;

	switch (t->op) {
	case OP_EXISTS:
	case OP_NOT_EXISTS:
		return 0;
	case OP_IN:
		return parse_list(p, t);
	case OP_EQ:
	case OP_NE:
		break;
	}
	if (t->subject == SUBJECT_AGENT_CONNECTED) {
		size_t value_start = p->tok.start;

		if ((r = take_value(p, t)) < 0)
			return r;
		if (strcmp(t->values[0], "true") == 0)
			t->flag = true;
		else if (strcmp(t->values[0], "false") == 0)
			t->flag = false;
		else
			return fail(
				p, value_start, "agentConnected compares only with true or false");
		return 0;
	}
	return take_value(p, t);
}

/* Free one term's contents. */
static void term_finish(struct term *t)
{
	free(t->name);
	for (size_t i = 0; i < t->value_count; i++)
		free(t->values[i]);
	free(t->values);
}

/* Parse the whole text into f's terms. */
static int parse_terms(struct parser *p, struct ecs_filter *f)
{
	int r;

	if ((r = next_token(p)) < 0)
		return r;
	if (p->tok.kind == TOKEN_END)
		return fail(p, p->tok.start, "empty filter");
	for (;;) {
		struct term *t;

		f->terms = xreallocarray(f->terms, f->term_count + 1, sizeof(*f->terms));
		t = &f->terms[f->term_count++];
		memset(t, 0, sizeof(*t));
		if ((r = parse_subject(p, t)) < 0)
			return r;
		if ((r = next_token(p)) < 0)
			return r;
		if ((r = parse_operator(p, t)) < 0)
			return r;
		if (p->tok.kind == TOKEN_END)
			return 0;
		if (tok_is_word(p, "or"))
			return fail(p, p->tok.start,
				"'or' is not supported; terms can only be joined by 'and'");
		if (p->tok.kind != TOKEN_AND && !tok_is_word(p, "and"))
			return fail_found(p, "'and', '&&' or the end of the filter");
		if ((r = next_token(p)) < 0)
			return r;
		if (p->tok.kind == TOKEN_END)
			return fail(p, p->tok.start, "expected a term after 'and'");
	}
}

int ecs_filter_parse(const char *text, struct ecs_filter **out, struct ecs_filter_error *err)
{
	size_t len = strnlen(text, ECS_FILTER_MAX_TEXT + 1);
	struct parser p = {.text = text, .err = err};

	if (len > ECS_FILTER_MAX_TEXT) {
		fail(&p, ECS_FILTER_MAX_TEXT, "filter longer than %d bytes", ECS_FILTER_MAX_TEXT);
		return -E2BIG;
	}

	struct ecs_filter *f = xcalloc(1, sizeof(*f));
	int r = parse_terms(&p, f);

	if (r < 0) {
		ecs_filter_destroy(f);
		return r;
	}
	f->text = xstrdup(text);
	*out = f;
	return 0;
}

/* The instance's attribute called name, or NULL. The first one wins. */
static const struct ecs_filter_attribute *find_attribute(
	const struct ecs_filter_instance *inst, const char *name)
{
	for (size_t i = 0; i < inst->attribute_count; i++) {
		if (inst->attributes[i].name != NULL && strcmp(inst->attributes[i].name, name) == 0)
			return &inst->attributes[i];
	}
	return NULL;
}

/* Whether value is one of the term's values. */
static bool in_values(const struct term *t, const char *value)
{
	if (value == NULL)
		return false;
	for (size_t i = 0; i < t->value_count; i++) {
		if (strcmp(t->values[i], value) == 0)
			return true;
	}
	return false;
}

/* Evaluate one term. */
static bool term_match(const struct term *t, const struct ecs_filter_instance *inst)
{
	const struct ecs_filter_attribute *a;

	switch (t->subject) {
	case SUBJECT_AGENT_CONNECTED:
		return inst->agent_connected == t->flag;
	case SUBJECT_EC2_INSTANCE_ID:
		return in_values(t, inst->ec2_instance_id);
	case SUBJECT_ATTRIBUTE:
		break;
	}
	a = find_attribute(inst, t->name);
	switch (t->op) {
	case OP_EXISTS:
		return a != NULL;
	case OP_NOT_EXISTS:
		return a == NULL;
	case OP_EQ:
	case OP_IN:
		return a != NULL && in_values(t, a->value);
	case OP_NE:
		return a == NULL || !in_values(t, a->value);
	}
	return false;
}

bool ecs_filter_match(const struct ecs_filter *filter, const struct ecs_filter_instance *instance)
{
	for (size_t i = 0; i < filter->term_count; i++) {
		if (!term_match(&filter->terms[i], instance))
			return false;
	}
	return true;
}

const char *ecs_filter_text(const struct ecs_filter *filter)
{
	return filter->text;
}

void ecs_filter_destroy(struct ecs_filter *filter)
{
	if (filter == NULL)
		return;
	for (size_t i = 0; i < filter->term_count; i++)
		term_finish(&filter->terms[i]);
	free(filter->terms);
	free(filter->text);
	free(filter);
}

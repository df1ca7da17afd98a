/* SPDX-License-Identifier: MIT */
/*
 * Secrets in the environment, and their redaction from what interpose
 * writes (DESIGN.md invariant 8).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Does an environment variable of this name hold a secret (*_TOKEN,
 * *SECRET*, *_KEY, *PASSWORD*, AWS credentials, SSH_AUTH_SOCK, ...)? */
bool secret_name(const char *name);

/* Does the value hold a string shaped like a known token (ghp_..., AKIA...,
 * sk-ant-..., xoxb-..., a PEM private key, a JWT, a URL with a password)? */
bool secret_shaped(const char *value);

/* Is this environment variable a secret: by its name, by its value, or by
 * both (Bundler's BUNDLE_<HOST>=user:password)? */
bool secret_var(const char *name, const char *value);

/* Register a secret value to redact (values under 6 bytes are not). */
void secrets_add(const char *value);

/* Replace every registered value (also as escaped in a JSON string) and
 * every token-shaped string in buf[0..len) with "[REDACTED]", within cap
 * bytes. The new length. */
size_t secrets_redact(char *buf, size_t len, size_t cap);

/* The same for a raw string about to be escaped and written (a decoded
 * argument, a path); truncated: it was cut short, so the start of a
 * secret or a token shape at its end is redacted too. */
size_t secrets_redact_raw(char *buf, size_t len, size_t cap, bool truncated);

/* The same for a JSON record: only inside its string values (never a key,
 * never across strings), a value as JSON escapes it. The new length, or 0
 * when the redacted record would not fit below cap (buf is then as it was:
 * the caller shortens the record, which is never cut in its structure). */
size_t secrets_redact_json(char *buf, size_t len, size_t cap);

/* Copy src into dst (cap bytes, cap > 0) with every secret redacted before
 * it is cut to fit: a secret the cut splits is recognised in neither half.
 * The length copied. */
size_t secrets_copy(char *dst, size_t cap, const char *src);

/* Does one of the globs (fnmatch) name this variable? */
bool secret_env_allowed(const char *name, const char *const *globs, size_t n);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The single error convention of the libhybridha API. */
#ifndef HYBRIDHA_ERROR_H
#define HYBRIDHA_ERROR_H

#include <hybridha/common.h>

HHA_BEGIN_DECLS

/*
 * Error convention
 * ----------------
 * Every function that can fail returns an int: 0 (or a documented
 * non-negative count) on success, a negative error code on failure. Error
 * codes are negative errno values (-EINVAL, -ENOMEM, ...) or, for conditions
 * errno has no word for, the negated HHA_E* codes below. Functions that
 * return a pointer return NULL on failure and say which code they would have
 * used in their documentation; it is readable through hha_last_error_code().
 *
 * A failing call also leaves a sentence for people in a thread-local buffer,
 * prefixed with the function name (`hha_config_load: hybridha.conf:
 * resources.r0.protocol: expected "A", "B" or "C", got "D"`). Read it with
 * hha_last_error() before the next libhybridha call on the same thread.
 *
 * The library never calls exit(), never prints to stdout and never installs
 * signal handlers.
 */

/* Library-specific error codes; always above every errno value. */
enum hha_error {
	HHA_E_FIRST = 4096,
	HHA_ECONFIG = HHA_E_FIRST, /* configuration invalid (details in the message) */
	HHA_EVERSION,              /* peer or daemon speaks another protocol version */
	HHA_EAUTH,                 /* authentication failed (wrong key, forged frame) */
	HHA_ESTATE,                /* object is not in a state that allows the call */
	HHA_ESPLITBRAIN,           /* both replicas changed independently */
	HHA_EUNRELATED,            /* replicas share no history */
	HHA_EPEERPRIMARY,          /* the peer is primary; only one primary allowed */
	HHA_ENOTUPTODATE,          /* local data not UpToDate; --force required */
	HHA_EPROTO_PEER,           /* malformed or hostile data from a peer */
	HHA_E_LAST
};

/**
 * hha_strerror - describe an error code in words.
 * @err: a code as returned by a libhybridha call (negative) or its absolute value.
 *
 * Return: a static string, never NULL ("Unknown error N" for unknown codes).
 * Thread-safe.
 */
HHA_EXPORT const char *hha_strerror(int err);

/**
 * hha_error_name - the symbolic name of an error code ("EINVAL", "HHA_ECONFIG").
 * @err: negative or positive code.
 *
 * Return: a static string; "E?" for codes without a name. Thread-safe.
 */
HHA_EXPORT const char *hha_error_name(int err);

/**
 * hha_error_from_name - the inverse of hha_error_name().
 * @name: a symbolic name such as "EINVAL" or "HHA_ESPLITBRAIN".
 *
 * Return: the positive code, or 0 if @name is unknown.
 */
HHA_EXPORT int hha_error_from_name(const char *name);

/**
 * hha_last_error - the message left by the last failing call on this thread.
 *
 * Return: a thread-local string valid until the next libhybridha call on this
 * thread; "" when no call has failed yet. Never NULL.
 */
HHA_EXPORT const char *hha_last_error(void);

/**
 * hha_last_error_code - the (negative) code of the last failing call on this thread.
 *
 * Return: 0 if no call failed yet on this thread.
 */
HHA_EXPORT int hha_last_error_code(void);

HHA_END_DECLS

#endif /* HYBRIDHA_ERROR_H */

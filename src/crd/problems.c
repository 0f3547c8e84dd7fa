/* problems.c: bounded lists of problems found while decoding or validating
 * a custom resource, and how they become one message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crd/crd_internal.h"

char *cs__strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

bool cs__set_str(char **dst, const char *src)
{
    char *copy = NULL;
    if (src && !(copy = cs__strdup(src)))
        return false;
    free(*dst);
    *dst = copy;
    return true;
}

const char *cs__printable(const char *text, size_t max, char *buf, size_t len)
{
    size_t o = 0, i = 0;
    if (len == 0)
        return buf;
    if (!text)
        text = "";
    for (; text[i] && i < max && o + 1 < len; i++) {
        unsigned char c = (unsigned char)text[i];
        buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (text[i] && o + 4 < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

int cs__problems_set_subject(cs_crd_problems_t *p, const char *kind, const char *name)
{
    char shown[300], subject[400];
    if (name && *name)
        snprintf(subject, sizeof subject, "%s '%s'", kind, cs__printable(name, 253, shown, sizeof shown));
    else
        snprintf(subject, sizeof subject, "%s", kind);
    return cs__set_str(&p->subject, subject) ? 0 : CS_ENOMEM;
}

void cs__problem(cs__dec_t *d, const char *fmt, ...)
{
    cs_crd_problems_t *p = d->problems;
    if (p->count >= CS_CRD_PROBLEMS_MAX) {
        p->dropped++;
        return;
    }
    char msg[CS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char **items = realloc(p->items, (p->count + 1) * sizeof *items);
    if (!items) {
        d->oom = true;
        return;
    }
    p->items = items;
    if (!(items[p->count] = cs__strdup(msg))) {
        d->oom = true;
        return;
    }
    p->count++;
}

void cs__problem_rc(cs__dec_t *d, int rc, const cs_err_t *e)
{
    if (rc == CS_ENOMEM)
        d->oom = true;
    else
        cs__problem(d, "%s", e->msg);
}

char *cs_crd_problems_join(const cs_crd_problems_t *problems)
{
    if (!problems || problems->count == 0)
        return NULL;
    size_t len = 1;
    if (problems->subject)
        len += strlen(problems->subject) + 2;
    for (size_t i = 0; i < problems->count; i++)
        len += strlen(problems->items[i]) + 2;
    char tail[64] = "";
    if (problems->dropped)
        snprintf(tail, sizeof tail, " (and %zu more problem%s)", problems->dropped, problems->dropped == 1 ? "" : "s");
    len += strlen(tail);
    char *out = malloc(len);
    if (!out)
        return NULL;
    size_t o = 0;
    if (problems->subject)
        o += (size_t)sprintf(out + o, "%s: ", problems->subject);
    for (size_t i = 0; i < problems->count; i++)
        o += (size_t)sprintf(out + o, "%s%s", i ? "; " : "", problems->items[i]);
    sprintf(out + o, "%s", tail);
    return out;
}

void cs_crd_problems_free(cs_crd_problems_t *problems)
{
    if (!problems)
        return;
    for (size_t i = 0; i < problems->count; i++)
        free(problems->items[i]);
    free(problems->items);
    free(problems->subject);
    memset(problems, 0, sizeof *problems);
}

int cs__problems_finish(cs__dec_t *d, cs_crd_problems_t *out, int code, cs_err_t *err)
{
    cs_crd_problems_t *p = d->problems;
    int rc = 0;
    if (d->oom) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory while checking %s",
                        p->subject ? p->subject : "a custom resource");
    } else if (p->count > 0) {
        char *joined = cs_crd_problems_join(p);
        if (!joined)
            rc = cs_err_set(err, CS_ENOMEM, "out of memory while checking %s",
                            p->subject ? p->subject : "a custom resource");
        else
            rc = cs_err_set(err, code, "%s", joined);
        free(joined);
    }
    if (out && rc != 0 && rc != CS_ENOMEM) {
        cs_crd_problems_free(out);
        *out = *p;
        memset(p, 0, sizeof *p);
    } else {
        cs_crd_problems_free(p);
        if (out)
            cs_crd_problems_free(out);
    }
    return rc;
}

/* attr.c: bounded readers and parsers for sysfs attributes, VPD pages,
 * /proc/self/mountinfo and /proc/swaps. All input is untrusted. */
#include "couchestor/hw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool cs__is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int cs_hw_attr_read(const char *dir, const char *name, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return CS_EINVAL;
    buf[0] = '\0';
    char path[CS_HW_PATH_MAX * 2];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return CS_ETOOBIG;
    /* O_NONBLOCK: a FIFO planted where an attribute should be must not hang us. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? CS_ENOTFOUND : CS_EIO;
    size_t len = 0;
    int result = 0;
    for (;;) {
        if (len == cap - 1) {
            char extra;
            ssize_t r = read(fd, &extra, 1);
            if (r > 0)
                result = CS_ETOOBIG;
            else if (r < 0 && errno != EINTR)
                result = CS_EIO;
            break;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            result = CS_EIO;
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (result < 0) {
        buf[0] = '\0';
        return result;
    }
    while (len > 0 && cs__is_space(buf[len - 1]))
        len--;
    buf[len] = '\0';
    return (int)len;
}

int cs_hw_attr_parse_u64(const char *text, size_t len, uint64_t *out)
{
    size_t i = 0;
    while (i < len && cs__is_space(text[i]))
        i++;
    if (i == len || text[i] < '0' || text[i] > '9')
        return CS_EPARSE;
    uint64_t v = 0;
    while (i < len && text[i] >= '0' && text[i] <= '9') {
        unsigned d = (unsigned)(text[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return CS_EPARSE;
        v = v * 10 + d;
        i++;
    }
    while (i < len && cs__is_space(text[i]))
        i++;
    if (i != len)
        return CS_EPARSE;
    *out = v;
    return 0;
}

int cs_hw_attr_parse_devnum(const char *text, size_t len, unsigned *major, unsigned *minor)
{
    const char *colon = memchr(text, ':', len);
    if (!colon)
        return CS_EPARSE;
    uint64_t a, b;
    size_t alen = (size_t)(colon - text);
    if (cs_hw_attr_parse_u64(text, alen, &a) != 0 || cs_hw_attr_parse_u64(colon + 1, len - alen - 1, &b) != 0 ||
        a > 0xfffff || b > 0xfffff)
        return CS_EPARSE;
    *major = (unsigned)a;
    *minor = (unsigned)b;
    return 0;
}

size_t cs_hw_attr_clean(const char *text, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t o = 0;
    bool pending_space = false;
    for (size_t i = 0; i < len && text[i] != '\0'; i++) {
        unsigned char c = (unsigned char)text[i];
        if (cs__is_space((char)c)) {
            pending_space = o > 0;
            continue;
        }
        if (pending_space && o + 1 < cap)
            out[o++] = ' ';
        pending_space = false;
        if (o + 1 >= cap)
            break;
        out[o++] = (c >= 0x21 && c <= 0x7e) ? (char)c : '?';
    }
    out[o] = '\0';
    return o;
}

int cs_hw_vpd80_serial(const uint8_t *page, size_t len, char *out, size_t cap)
{
    if (cap > 0)
        out[0] = '\0';
    /* SPC: byte 1 page code, bytes 2-3 page length, serial from byte 4. */
    if (!page || len < 4 || page[1] != 0x80)
        return CS_EPARSE;
    size_t plen = ((size_t)page[2] << 8) | page[3];
    if (plen > len - 4)
        plen = len - 4;
    cs_hw_attr_clean((const char *)page + 4, plen, out, cap);
    return out[0] ? 0 : CS_EPARSE;
}

/* Decodes the octal escapes (\040 for space etc.) mountinfo uses. */
static void cs__unescape(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
            s[i + 3] >= '0' && s[i + 3] <= '7') {
            int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
            out[o++] = v ? (char)v : '?';
            i += 3;
        } else {
            out[o++] = s[i];
        }
    }
    if (cap)
        out[o] = '\0';
}

/* Splits line[0..len) into space-separated fields; returns how many. */
static size_t cs__fields(const char *line, size_t len, const char **f, size_t *flen, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len && n < max) {
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && line[i] != ' ' && line[i] != '\t')
            i++;
        f[n] = line + start;
        flen[n] = i - start;
        n++;
    }
    return n;
}

int cs_hw_mountinfo_parse(const char *text, size_t len, cs_hw_mount_t *out, size_t cap, size_t *count, size_t *skipped)
{
    size_t n = 0, bad = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl ? 1 : 0);
        if (llen == 0)
            continue;
        /* id parent major:minor root target options [optional...] - fstype source superopts */
        const char *f[64];
        size_t fl[64];
        size_t nf = cs__fields(line, llen, f, fl, 64);
        size_t sep = 0;
        for (size_t i = 6; i < nf; i++) {
            if (fl[i] == 1 && f[i][0] == '-') {
                sep = i;
                break;
            }
        }
        unsigned maj, min;
        if (nf < 10 || sep == 0 || sep + 2 >= nf || cs_hw_attr_parse_devnum(f[2], fl[2], &maj, &min) != 0) {
            bad++;
            continue;
        }
        if (n < cap) {
            cs_hw_mount_t *m = &out[n];
            memset(m, 0, sizeof *m);
            m->major = maj;
            m->minor = min;
            cs__unescape(f[4], fl[4], m->target, sizeof m->target);
            cs__unescape(f[sep + 1], fl[sep + 1], m->fstype, sizeof m->fstype);
            cs__unescape(f[sep + 2], fl[sep + 2], m->source, sizeof m->source);
            n++;
        }
    }
    if (count)
        *count = n;
    if (skipped)
        *skipped = bad;
    return 0;
}

int cs_hw_swaps_parse(const char *text, size_t len, char (*out)[CS_HW_PATH_MAX], size_t cap, size_t *count)
{
    size_t n = 0, pos = 0;
    bool header = true;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl ? 1 : 0);
        if (header) {
            header = false;
            if (llen >= 8 && memcmp(line, "Filename", 8) == 0)
                continue;
        }
        const char *f[1];
        size_t fl[1];
        if (cs__fields(line, llen, f, fl, 1) != 1)
            continue;
        if (n < cap) {
            cs__unescape(f[0], fl[0], out[n], CS_HW_PATH_MAX);
            n++;
        }
    }
    if (count)
        *count = n;
    return 0;
}

/* render.c: the inventory as a table for people, JSON for machines, and
 * DiskPool manifests (openebs.io/v1beta2) for Mayastor. */
#include "couchestor/hw.h"
#include "couchestor/labels.h"
#include "couchestor/quantity.h"

#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

static void cs__join(const cs_hw_reasons_t *r, char *out, size_t cap, size_t *used)
{
    for (int i = 0; i < r->count && i < CS_HW_REASONS_MAX; i++) {
        int n = snprintf(out + *used, cap - *used, "%s%s", *used ? "; " : "", r->text[i]);
        if (n < 0 || (size_t)n >= cap - *used) {
            *used = cap - 1;
            return;
        }
        *used += (size_t)n;
    }
}

static const char *cs__or_dash(const char *s)
{
    return s && s[0] ? s : "-";
}

int cs_hw_render_table(const cs_hw_inventory_t *inv, FILE *f)
{
    enum {
        NCOL = 8
    };
    static const char *const head[NCOL] = {"DEVICE", "SIZE", "MEDIA", "TRANSPORT", "MODEL", "SERIAL", "HEALTH", "TIER"};
    size_t w[NCOL];
    for (int i = 0; i < NCOL; i++)
        w[i] = strlen(head[i]);
    char size[32];
    for (size_t i = 0; i < inv->count; i++) {
        const cs_hw_device_t *d = &inv->devices[i];
        cs_bytes_human(d->size_bytes, size, sizeof size);
        size_t l[NCOL] = {strlen(d->name),
                          strlen(size),
                          strlen(cs_hw_media_name(d->media)),
                          strlen(cs__or_dash(d->transport)),
                          strlen(cs__or_dash(d->model)),
                          strlen(cs__or_dash(d->serial)),
                          strlen(cs_hw_health_name(d->health.state)),
                          strlen(cs_hw_tier_name(d->tier))};
        for (int c = 0; c < NCOL; c++)
            if (l[c] > w[c])
                w[c] = l[c] > 40 ? 40 : l[c];
    }
    for (int c = 0; c < NCOL; c++)
        fprintf(f, "%-*s  ", (int)w[c], head[c]);
    fprintf(f, "STATUS\n");
    size_t counts[5] = {0};
    size_t poolable = 0;
    for (size_t i = 0; i < inv->count; i++) {
        const cs_hw_device_t *d = &inv->devices[i];
        cs_bytes_human(d->size_bytes, size, sizeof size);
        const char *tier = cs_hw_tier_name(d->tier);
        /* A device that cannot be offered shows no tier unless asked. */
        if (!d->candidate)
            tier = "-";
        const char *cells[NCOL] = {d->name,
                                   size,
                                   cs_hw_media_name(d->media),
                                   cs__or_dash(d->transport),
                                   cs__or_dash(d->model),
                                   cs__or_dash(d->serial),
                                   cs_hw_health_name(d->health.state),
                                   tier};
        for (int c = 0; c < NCOL; c++)
            fprintf(f, "%-*.*s  ", (int)w[c], (int)w[c], cells[c]);
        char why[1024] = "";
        size_t used = 0;
        cs__join(&d->in_use, why, sizeof why, &used);
        cs__join(&d->excluded, why, sizeof why, &used);
        cs__join(&d->health.notes, why, sizeof why, &used);
        const char *status = cs_hw_status_name(d->status);
        if (d->candidate && !d->poolable)
            fprintf(f, "%s (shown as candidate; never pooled)%s%s\n", status, used ? ": " : "", why);
        else
            fprintf(f, "%s%s%s\n", status, used ? ": " : "", why);
        if (d->poolable) {
            poolable++;
            if ((unsigned)d->tier < 5)
                counts[d->tier]++;
        }
    }
    fprintf(f, "\n%zu of %zu device%s can hold a pool (hot %zu, warm %zu, cold %zu).\n", poolable, inv->count,
            inv->count == 1 ? "" : "s", counts[CS_HW_TIER_HOT], counts[CS_HW_TIER_WARM], counts[CS_HW_TIER_COLD]);
    fflush(f);
    return ferror(f) ? CS_EIO : 0;
}

static json_t *cs__reasons_json(const cs_hw_reasons_t *r)
{
    json_t *a = json_array();
    for (int i = 0; a && i < r->count && i < CS_HW_REASONS_MAX; i++)
        json_array_append_new(a, json_string(r->text[i]));
    return a;
}

static json_t *cs__str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

static json_t *cs__device_json(const cs_hw_device_t *d)
{
    const cs_hw_health_info_t *h = &d->health;
    json_t *health = json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "state", cs_hw_health_name(h->state), "source",
        cs__str_or_null(h->source), "smart_passed", h->smart_passed < 0 ? json_null() : json_boolean(h->smart_passed),
        "smartctl_exit_status", h->smartctl_exit_status < 0 ? json_null() : json_integer(h->smartctl_exit_status),
        "critical_warning", h->critical_warning < 0 ? json_null() : json_integer(h->critical_warning), "percent_used",
        h->percent_used < 0 ? json_null() : json_integer(h->percent_used), "media_errors",
        h->media_errors == UINT64_MAX ? json_null() : json_integer((json_int_t)h->media_errors), "temperature_celsius",
        h->temperature_c == INT_MIN ? json_null() : json_integer(h->temperature_c), "power_on_hours",
        h->power_on_hours == UINT64_MAX ? json_null() : json_integer((json_int_t)h->power_on_hours), "notes",
        cs__reasons_json(&h->notes));
    json_t *parts = json_array();
    for (int i = 0; parts && i < d->npartitions; i++)
        json_array_append_new(parts, json_string(d->partitions[i]));
    char devnum[32];
    snprintf(devnum, sizeof devnum, "%u:%u", d->major, d->minor);
    return json_pack(
        "{s:s, s:s, s:o, s:s, s:I, s:i, s:i, s:o, s:b, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:o, s:o, s:s, s:s, s:s, s:o, s:s, s:b, s:b, s:o, s:o, s:o}",
        "name", d->name, "path", d->path, "stable_path", cs__str_or_null(d->by_id), "devnum", devnum, "size_bytes",
        (json_int_t)(d->size_bytes > (uint64_t)INT64_MAX ? INT64_MAX : d->size_bytes), "logical_block_size",
        (int)d->logical_block_size, "physical_block_size", (int)d->physical_block_size, "rotational",
        d->rotational < 0 ? json_null() : json_boolean(d->rotational), "removable", d->removable, "read_only",
        d->read_only, "virtual", d->is_virtual, "model", cs__str_or_null(d->model), "serial",
        cs__str_or_null(d->serial), "firmware", cs__str_or_null(d->firmware), "wwid", cs__str_or_null(d->wwid),
        "transport", cs__str_or_null(d->transport), "controller", cs__str_or_null(d->controller), "numa_node",
        d->numa_node < 0 ? json_null() : json_integer(d->numa_node), "partitions", parts ? parts : json_array(),
        "media_type", cs_hw_media_name(d->media), "suggested_tier", cs_hw_tier_name(d->tier), "tier_source",
        d->tier_source, "health", health ? health : json_null(), "status", cs_hw_status_name(d->status), "candidate",
        d->candidate, "poolable", d->poolable, "signatures_checked", json_boolean(d->signatures_checked),
        "in_use_reasons", cs__reasons_json(&d->in_use), "excluded_reasons", cs__reasons_json(&d->excluded));
}

int cs_hw_render_json(const cs_hw_inventory_t *inv, FILE *f, cs_err_t *err)
{
    json_t *devs = json_array();
    json_t *warns = json_array();
    json_t *root = json_object();
    if (!devs || !warns || !root)
        goto oom;
    for (size_t i = 0; i < inv->count; i++) {
        json_t *d = cs__device_json(&inv->devices[i]);
        if (!d || json_array_append_new(devs, d) != 0)
            goto oom;
    }
    for (size_t i = 0; i < inv->nwarnings; i++)
        if (json_array_append_new(warns, json_string(inv->warnings[i])) != 0)
            goto oom;
    json_object_set_new(root, "devices", devs);
    json_object_set_new(root, "warnings", warns);
    devs = warns = NULL;
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    fputc('\n', f);
    fflush(f);
    json_decref(root);
    if (rc != 0 || ferror(f))
        return cs_err_set(err, CS_EIO, "cannot write the JSON inventory");
    return 0;
oom:
    json_decref(devs);
    json_decref(warns);
    json_decref(root);
    return cs_err_set(err, CS_ENOMEM, "out of memory building the JSON inventory");
}

/* DNS-1123 label (namespace) or subdomain (node, name). */
static bool cs__dns_ok(const char *s, bool subdomain)
{
    size_t n = strlen(s);
    if (n == 0 || n > (subdomain ? 253u : 63u))
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (c == '.' && subdomain) {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!alnum && c != '-')
            return false;
        if (c == '-' && label == 0)
            return false;
        if (++label > 63)
            return false;
    }
    return s[n - 1] != '-' && s[n - 1] != '.';
}

void cs_hw_pool_name(const char *node, const char *device, char *out, size_t cap)
{
    char full[512];
    size_t n = 0;
    for (const char *p = node; *p && n + 1 < sizeof full; p++)
        full[n++] = *p;
    if (n + 1 < sizeof full)
        full[n++] = '-';
    for (const char *p = device; *p && n + 1 < sizeof full; p++)
        full[n++] = *p;
    full[n] = '\0';
    /* Lower case, [a-z0-9-] only, no leading/trailing or repeated '-'. */
    char clean[512];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        char c = (char)tolower((unsigned char)full[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '-';
        if (c == '-' && (m == 0 || clean[m - 1] == '-'))
            continue;
        clean[m++] = c;
    }
    while (m > 0 && clean[m - 1] == '-')
        m--;
    clean[m] = '\0';
    if (m > 63) {
        uint32_t h = 2166136261u; /* FNV-1a of the full name keeps long names distinct */
        for (size_t i = 0; i < n; i++)
            h = (h ^ (uint8_t)full[i]) * 16777619u;
        size_t keep = 63 - 9;
        while (keep > 0 && clean[keep - 1] == '-')
            keep--;
        snprintf(clean + keep, sizeof clean - keep, "-%08x", h);
    }
    snprintf(out, cap, "%s", m ? clean : "pool");
}

/* A YAML scalar: plain when unambiguous, else double-quoted. */
static void cs__yaml_scalar(FILE *f, const char *s)
{
    bool plain = s[0] != '\0';
    for (const char *p = s; *p && plain; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '-' ||
              c == '_' || c == '.'))
            plain = false;
    }
    if (plain) {
        static const char *const ambiguous[] = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"};
        bool digits = true;
        for (const char *p = s; *p; p++)
            if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
                digits = false;
        if (digits || s[0] == '-' || s[0] == '.')
            plain = false;
        for (size_t i = 0; plain && i < sizeof ambiguous / sizeof ambiguous[0]; i++)
            if (strcasecmp(s, ambiguous[i]) == 0)
                plain = false;
    }
    if (plain) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

int cs_hw_diskpool_check_names(const char *node, const char *ns, cs_err_t *err)
{
    if (!node || !cs__dns_ok(node, true))
        return cs_err_set(err, CS_EINVAL,
                          "--node '%s' is not a valid Kubernetes node name (lower-case letters, "
                          "digits, '-' and '.', at most 253 characters)",
                          node ? node : "");
    if (!ns || !cs__dns_ok(ns, false))
        return cs_err_set(err, CS_EINVAL,
                          "--namespace '%s' is not a valid namespace (lower-case letters, digits "
                          "and '-', at most 63 characters)",
                          ns ? ns : "");
    return 0;
}

int cs_hw_render_diskpools(const cs_hw_inventory_t *inv, const char *node, const char *ns, FILE *f, size_t *written,
                           cs_err_t *err)
{
    if (written)
        *written = 0;
    int rc = cs_hw_diskpool_check_names(node, ns, err);
    if (rc != 0)
        return rc;
    size_t n = 0;
    for (size_t i = 0; i < inv->count; i++) {
        const cs_hw_device_t *d = &inv->devices[i];
        if (!d->poolable || d->status != CS_HW_STATUS_AVAILABLE)
            continue;
        if (d->tier != CS_HW_TIER_HOT && d->tier != CS_HW_TIER_WARM && d->tier != CS_HW_TIER_COLD)
            continue;
        char name[64], size[32];
        cs_hw_pool_name(node, d->name, name, sizeof name);
        cs_bytes_human(d->size_bytes, size, sizeof size);
        const char *disk = d->by_id[0] ? d->by_id : d->path;
        fprintf(f, "---\n# %s: %s %s, %s, health %s, tier %s (%s)\n", d->name, cs__or_dash(d->model),
                cs__or_dash(d->serial), size, cs_hw_health_name(d->health.state), cs_hw_tier_name(d->tier),
                d->tier_source);
        fprintf(f, "apiVersion: openebs.io/v1beta2\nkind: DiskPool\nmetadata:\n  name: ");
        cs__yaml_scalar(f, name);
        fprintf(f, "\n  namespace: ");
        cs__yaml_scalar(f, ns);
        fprintf(f, "\n  labels:\n    " CS_LABEL_STORAGE_TIER ": %s\n    " CS_LABEL_MEDIA_TYPE ": %s\n",
                cs_hw_tier_name(d->tier), cs_hw_media_name(d->media));
        fprintf(f, "spec:\n  node: ");
        cs__yaml_scalar(f, node);
        fprintf(f, "\n  disks:\n    - ");
        cs__yaml_scalar(f, disk);
        /* Mayastor copies spec.topology.labelled to its pool; the placement
         * label lets the operator steer new replicas (docs/operator.md). */
        fprintf(f,
                "\n  topology:\n    labelled:\n      " CS_LABEL_STORAGE_TIER ": %s\n      " CS_LABEL_MEDIA_TYPE
                ": %s\n      " CS_LABEL_PLACEMENT ": " CS_LABEL_PLACEMENT_VALUE "\n",
                cs_hw_tier_name(d->tier), cs_hw_media_name(d->media));
        n++;
    }
    fflush(f);
    if (written)
        *written = n;
    if (ferror(f))
        return cs_err_set(err, CS_EIO, "cannot write the DiskPool manifests");
    return 0;
}

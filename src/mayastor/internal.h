/* internal.h: declarations shared by the files of the mayastor module. */
#ifndef COUCHESTOR_MAYASTOR_INTERNAL_H
#define COUCHESTOR_MAYASTOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "couchestor/mayastor.h"

/* Bounds on what one object may hold. */
#define CS__MS_MAX_REPLICAS 1024
#define CS__MS_MAX_CHILDREN 1024
#define CS__MS_MAX_LABELS 1024
#define CS__MS_MAX_DISKS 256
#define CS__MS_MAX_STRING ((size_t)64 * 1024)

/* store.c: one arena of stable allocations, interned strings, a uuid index. */
cs__mayastor_store_t *cs__ms_store_new(void);
void cs__ms_store_free(cs__mayastor_store_t *s);
size_t cs__ms_store_bytes(const cs__mayastor_store_t *s);
/* Arena memory (8-byte aligned), freed with the store. NULL on ENOMEM. */
void *cs__ms_alloc(cs__mayastor_store_t *s, size_t size);
/* A NUL-terminated copy in the arena. */
const char *cs__ms_strdup(cs__mayastor_store_t *s, const char *text, size_t len);
/* The one copy of this string in the store. */
const char *cs__ms_intern(cs__mayastor_store_t *s, const char *text, size_t len);
/* Copies n elements of size sz into the arena (NULL when n == 0). */
void *cs__ms_copy(cs__mayastor_store_t *s, const void *src, size_t n, size_t sz, int *rc);
/* Creates out->store when missing. */
int cs__ms_ensure_store(cs__mayastor_store_t **store);
/* The one copy of an inclusion label set (of interned strings) in the store
 * while decoding: equal sets share it. NULL when n == 0; *rc = CS_ENOMEM on
 * failure. */
const cs_mayastor_label_t *cs__ms_label_set(cs__mayastor_store_t *s, const cs_mayastor_label_t *labels, size_t n,
                                            int *rc);
/* Appends one zeroed item to a container's (items, count, cap). */
void *cs__ms_grow(void **items, size_t *count, size_t *cap, size_t sz);
/* Rebuilds the uuid index of a volume container. */
int cs__ms_index_volumes(cs_mayastor_volumes_t *v);

/* Enum parsing from API text; unknown text gives the type's OTHER. */
cs_mayastor_spec_status_t cs__ms_spec_status(const char *t, size_t n);
cs_mayastor_volume_status_t cs__ms_volume_status(const char *t, size_t n);
cs_mayastor_state_t cs__ms_state(const char *t, size_t n);
cs_mayastor_child_state_t cs__ms_child_state(const char *t, size_t n);
cs_mayastor_child_reason_t cs__ms_child_reason(const char *t, size_t n);
cs_mayastor_nexus_state_t cs__ms_nexus_state(const char *t, size_t n);
cs_mayastor_protocol_t cs__ms_protocol(const char *t, size_t n);
cs_mayastor_node_status_t cs__ms_node_status(const char *t, size_t n);
cs_mayastor_operation_t cs__ms_operation(const char *t, size_t n);
cs_mayastor_rebuild_state_t cs__ms_rebuild_state(const char *t, size_t n);
cs_mayastor_kind_t cs__ms_kind(const char *t, size_t n);

/* The uuid= query parameter of a nexus child URI; nil when absent. */
void cs__ms_uri_uuid(const char *uri, size_t len, cs_mayastor_uuid_t *out);

#endif

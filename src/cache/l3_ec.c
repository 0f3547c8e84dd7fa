/* l3_ec.c: L3 of the tiered cache on the erasure-coded object store
 * (cs_cache_ec_tier_ops, cache.h): cache keys are the store's object names. */
#include "couchestor/cache.h"
#include "couchestor/ec_store.h"

static int cs__ec_get(void *ctx, const void *key, size_t klen, size_t max_len, uint8_t **data, size_t *len,
                      cs_err_t *err)
{
    const cs_cache_ec_tier_t *t = ctx;
    return cs_ec_store_get(t->store, key, klen, max_len, data, len, NULL, err);
}

static int cs__ec_put(void *ctx, const void *key, size_t klen, const void *data, size_t len, cs_err_t *err)
{
    const cs_cache_ec_tier_t *t = ctx;
    cs_ec_policy_t policy = {.k = t->k, .m = t->m, .stripe_size = t->stripe_size};
    return cs_ec_store_put(t->store, key, klen, &policy, data, len, err);
}

static int cs__ec_del(void *ctx, const void *key, size_t klen, cs_err_t *err)
{
    const cs_cache_ec_tier_t *t = ctx;
    return cs_ec_store_delete(t->store, key, klen, err);
}

const cs_cache_tier_ops_t cs_cache_ec_tier_ops = {
    .name = "ec",
    .get = cs__ec_get,
    .put = cs__ec_put,
    .del = cs__ec_del,
};

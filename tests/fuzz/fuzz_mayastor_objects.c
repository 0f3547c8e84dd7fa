/* Fuzz target: the small Mayastor documents: pools, nodes, nexus children
 * (lists and single objects) and rebuild history. */
#include <stdint.h>
#include <stdlib.h>

#include "couchestor/mayastor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    for (int list = 0; list < 2; list++) {
        cs_err_t err = {0};
        cs_mayastor_pools_t pools;
        if (cs_mayastor_decode_pools(body, size, list, &pools, &err) == 0)
            for (size_t i = 0; i < pools.count; i++)
                cs_mayastor_pool_label(&pools.items[i], "storage-tier");
        cs_mayastor_pools_free(&pools);
        cs_mayastor_nodes_t nodes;
        cs_mayastor_decode_nodes(body, size, list, &nodes, &err);
        cs_mayastor_nodes_free(&nodes);
        cs_mayastor_children_t kids;
        cs_mayastor_decode_children(body, size, list, &kids, &err);
        cs_mayastor_children_free(&kids);
    }
    cs_mayastor_rebuild_history_t h;
    cs_err_t err = {0};
    cs_mayastor_decode_rebuild_history(body, size, &h, &err);
    cs_mayastor_rebuild_history_free(&h);
    return 0;
}
